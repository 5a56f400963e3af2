-- The start of broker-publish.lua and broker-history.lua (scripts.ts puts it before each): the
-- channel's epoch in `epoch`. KEYS[1] meta, KEYS[2] stream; ARGV[1] epoch candidate, ARGV[2] ttl s.
--
-- The epoch is per channel and lives in the channel's meta hash. When that hash is gone (a Redis
-- restarted without persistence, an expired or evicted key) the caller's random candidate becomes
-- the epoch, and any old stream entries are dropped: they belong to the lost epoch.

local epoch = redis.call('HGET', KEYS[1], 'e')
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2])
  redis.call('HSET', KEYS[1], 'e', epoch, 's', 0)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
