-- RedisDebugStateStore.setStopped: the host stopped; the state and its revision.
--
-- KEYS: meta, bp. ARGV: stopped JSON, ttl ms. The revision.
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('HSET', KEYS[1], 'stopped', ARGV[1], 'srev', rev)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return rev
