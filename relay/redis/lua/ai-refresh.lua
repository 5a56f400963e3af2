-- RedisAnswerRegistry.refresh: the serving relay renews its lease. Keys in redis-answer-registry.ts.
--
-- KEYS: answers, lease. ARGV: field, instance, lease ms. 1 = still this relay's (lease renewed).
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry or cjson.decode(entry).i ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
return 1
