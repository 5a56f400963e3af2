-- RedisSessionStore.setStanding.
-- KEYS: the session. ARGV: user id, standing (removed, editor or viewer).
-- 1 if recorded, 0 if the user was removed before (a removal is final) or there is no session.

if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local field = 'participant:' .. ARGV[1]
if redis.call('HGET', KEYS[1], field) == 'removed' then return 0 end
redis.call('HSET', KEYS[1], field, ARGV[2])
return 1
