-- RedisJoinRequestStore.decide.
-- KEYS: the hash. ARGV: id, status, now, keepUntil. The request's JSON as it stands, or nil.

local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local request = cjson.decode(raw)
if request.expiresAt <= tonumber(ARGV[3]) then return false end
if request.status == 'pending' then
  request.status = ARGV[2]
  request.expiresAt = math.max(request.expiresAt, tonumber(ARGV[4]))
  raw = cjson.encode(request)
  redis.call('HSET', KEYS[1], ARGV[1], raw)
  if redis.call('PTTL', KEYS[1]) < request.expiresAt - tonumber(ARGV[3]) then
    redis.call('PEXPIREAT', KEYS[1], request.expiresAt)
  end
end
return raw
