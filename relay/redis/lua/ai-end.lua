-- RedisAnswerRegistry.end: the answer is done; its keys go. Keys in redis-answer-registry.ts.
--
-- KEYS: answers, lease, text. ARGV: field, instance.
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry or cjson.decode(entry).i ~= ARGV[2] then return 0 end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return 1
