-- RedisSessionStore.renewInvites.
-- KEYS: the session. The session's new invite generation (invites of older ones are refused), or -1 if there is no such session.

if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'inviteGeneration', 1)
