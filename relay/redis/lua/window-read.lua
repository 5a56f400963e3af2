-- Reads a rolling window's observations and forgets the old ones.
-- KEYS[1] the window's ids (sorted set, score = the entry's time in ms)
-- KEYS[2] the window's observations (hash: id -> data)
-- ARGV[1] from (ms): observations at or after it are returned
-- ARGV[2] forget before (ms): observations before it are deleted
-- Reply: a flat array id1, data1, id2, data2, ... ordered by time, then id
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
for i = 1, #old, 1000 do
  redis.call('HDEL', KEYS[2], unpack(old, i, math.min(i + 999, #old)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], ARGV[1], '+inf')
local reply = {}
for i = 1, #ids, 1000 do
  local values = redis.call('HMGET', KEYS[2], unpack(ids, i, math.min(i + 999, #ids)))
  for j = 1, #values do
    if values[j] then
      reply[#reply + 1] = ids[i + j - 1]
      reply[#reply + 1] = values[j]
    end
  end
end
return reply
