-- RedisAnswerRegistry.takeOrphans, for one answer found in the registry: taken by exactly one relay
-- if its relay let its lease expire. Keys in redis-answer-registry.ts (one hash slot).
--
-- KEYS: answers, lease, text. ARGV: field. Returns {entry, text} if taken, {} if not (its lease is
-- alive, or another relay took it first).
if redis.call('EXISTS', KEYS[2]) == 1 then return {} end
local entry = redis.call('HGET', KEYS[1], ARGV[1])
if not entry then return {} end
local text = redis.call('GET', KEYS[3]) or ''
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[3])
return {entry, text}
