-- RedisSessionStore.useInvite.
-- KEYS: the session. ARGV: invite id, max uses. 1 if a use was counted, 0 if used up (or no session).

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local field = 'uses:' .. ARGV[1]
if tonumber(redis.call('HGET', KEYS[1], field) or '0') >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], field, 1)
return 1
