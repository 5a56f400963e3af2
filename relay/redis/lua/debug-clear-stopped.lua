-- RedisDebugStateStore.clearStopped: the host continued or left.
--
-- KEYS: meta, bp. ARGV: ttl ms. The revision, or false if nothing was stopped.
if redis.call('HEXISTS', KEYS[1], 'stopped') == 0 then return false end
redis.call('HDEL', KEYS[1], 'stopped', 'srev')
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return rev
