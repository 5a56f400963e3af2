-- RedisAnswerRegistry.progress: before each chunk, the entry, the lease and the text so far. Keys in redis-answer-registry.ts.
--
-- KEYS: answers, lease, text. ARGV: field, entry, instance, lease ms, delta, text ttl s. 1 = still this relay's.
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry or cjson.decode(entry).i ~= ARGV[3] then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
if ARGV[5] ~= '' then
  redis.call('APPEND', KEYS[3], ARGV[5])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
end
return 1
