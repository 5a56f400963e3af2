-- Records one stream entry's observation for the rolling windows, once per entry id.
-- KEYS[1] the window's ids (sorted set, score = the entry's time in ms)
-- KEYS[2] the window's observations (hash: id -> data)
-- ARGV[1] entry id, ARGV[2] its time (ms), ARGV[3] data, ARGV[4] ttl of both keys (ms)
-- Reply: 1 if recorded, 0 if the id was recorded already (a redelivery: nothing changes)
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[3]) == 0 then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return 1
