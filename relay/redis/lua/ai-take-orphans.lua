-- RedisAnswerRegistry.takeOrphans: the answers whose relay let its lease expire, taken by exactly one relay. Keys in redis-answer-registry.ts.
--
-- KEYS: answers. ARGV: lease key prefix, text key prefix. Returns entry, text, entry, text, ... of the answers taken.
local taken = {}
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local field = entries[i]
  if redis.call('EXISTS', ARGV[1] .. field) == 0 then
    taken[#taken + 1] = entries[i + 1]
    taken[#taken + 1] = redis.call('GET', ARGV[2] .. field) or ''
    redis.call('HDEL', KEYS[1], field)
    redis.call('DEL', ARGV[2] .. field)
  end
end
return taken
