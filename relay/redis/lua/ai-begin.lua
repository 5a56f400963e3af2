-- RedisAnswerRegistry.begin: a new running answer, within the per-session limit, with its lease. Keys in redis-answer-registry.ts.
--
-- KEYS: answers, lease, text. ARGV: field, entry, instance, lease ms, max per session, session prefix of fields.
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then return 'in_use' end
local running = 0
for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
  if string.sub(field, 1, #ARGV[6]) == ARGV[6] then running = running + 1 end
end
if running >= tonumber(ARGV[5]) then return 'session_full' end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
redis.call('DEL', KEYS[3])
return 'ok'
