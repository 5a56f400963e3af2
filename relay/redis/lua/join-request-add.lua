-- RedisJoinRequestStore.add; expired requests are dropped on the way.
-- KEYS: the hash. ARGV: id, JSON, now, maxPending, expiresAt. 1 added, 0 too many pending.

local now = tonumber(ARGV[3])
local all = redis.call('HGETALL', KEYS[1])
local pending = 0
local latest = tonumber(ARGV[5])
for i = 1, #all, 2 do
  local request = cjson.decode(all[i + 1])
  if request.expiresAt <= now then
    redis.call('HDEL', KEYS[1], all[i])
  else
    if request.status == 'pending' then pending = pending + 1 end
    if request.expiresAt > latest then latest = request.expiresAt end
  end
end
if pending >= tonumber(ARGV[4]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[1], latest)
return 1
