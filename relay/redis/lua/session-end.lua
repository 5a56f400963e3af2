-- RedisSessionStore.end. KEYS[1]: the session. ARGV[1]: when it ended (ms).
-- Sets `endedAt` unless set (the first end wins); nil if there is no such session, else the record.

if redis.call('EXISTS', KEYS[1]) == 0 then return false end
redis.call('HSETNX', KEYS[1], 'endedAt', ARGV[1])
return redis.call('HGETALL', KEYS[1])
