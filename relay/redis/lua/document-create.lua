-- RedisDocumentStore.create and .fork (the keys are described in redis-document-store.ts).
--
-- KEYS: meta, ops, seen, sessions (below), seenq. ARGV: incarnation, snapshot JSON, length, ttl
-- ms, origin JSON ('' for none), the most documents per session (0: no bound), now (ms), the
-- document id; for a fork also: 9 the incarnation and 10 the head revision it replaces, 11 a
-- shard channel and 12 a payload to publish with it. 1 if created; 0 if the document exists (a
-- fork: if it is not at that incarnation and revision, or is gone); 2 if the session has as many
-- documents as it may. Keys left behind by a lost meta hash (evicted) belong to no incarnation:
-- dropped first, as are the replaced incarnation's ops and dedupe records.
--
-- KEYS[4], `<prefix>docs:{<session>}`, is the session's documents as a sorted set scored by when
-- each expires (written here and by `touch`): members past their score are gone documents.

local replacing = ARGV[9] ~= nil and ARGV[9] ~= ''
if replacing then
  local m = redis.call('HMGET', KEYS[1], 'e', 'rev')
  if m[1] ~= ARGV[9] or m[2] ~= ARGV[10] then return 0 end
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
if tonumber(ARGV[6]) > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. ARGV[7])
  if not redis.call('ZSCORE', KEYS[4], ARGV[8]) and redis.call('ZCARD', KEYS[4]) >= tonumber(ARGV[6]) then return 2 end
  redis.call('ZADD', KEYS[4], tonumber(ARGV[7]) + tonumber(ARGV[4]), ARGV[8])
  redis.call('PEXPIRE', KEYS[4], ARGV[4])
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[5])
redis.call('HSET', KEYS[1], 'e', ARGV[1], 'rev', 0, 'len', ARGV[3], 'srev', 0, 'snap', ARGV[2], 'orev', 0, 'hb', 0, 'sb', 0)
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'o', ARGV[5]) else redis.call('HDEL', KEYS[1], 'o') end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if replacing and ARGV[11] ~= '' then redis.call('SPUBLISH', ARGV[11], ARGV[12]) end
return 1
