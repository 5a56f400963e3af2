-- RedisPresenceStore.list: the live entries of a session's presence hash; the entries of relays
-- whose alive key has expired are deleted on the way.
-- KEYS[1]: the session's hash. ARGV[1]: the alive-key prefix. Returns the live entries' participant JSON.

local entries = redis.call('HGETALL', KEYS[1])
local alive, live, dead = {}, {}, {}
for i = 1, #entries, 2 do
  local value = entries[i + 1]
  local space = string.find(value, ' ', 1, true) or 0
  local instance = string.sub(value, 1, space - 1)
  if alive[instance] == nil then alive[instance] = redis.call('EXISTS', ARGV[1] .. instance) == 1 end
  if alive[instance] and space > 0 then live[#live + 1] = string.sub(value, space + 1) else dead[#dead + 1] = entries[i] end
end
for i = 1, #dead, 500 do redis.call('HDEL', KEYS[1], unpack(dead, i, math.min(i + 499, #dead))) end
return live
