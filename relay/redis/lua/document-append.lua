-- RedisDocumentStore.append: one commit (the keys are described in redis-document-store.ts).
--
-- KEYS: meta, ops, seen, turn, seenq. ARGV: 1 incarnation, 2 rev, 3 op JSON, 4 user, 5 client id,
-- 6 seq, 7 dedupe field, 8 length change, 9 ttl ms, 10 history size, 11 snapshot JSON at rev (''
-- if not due), 12 shard channel ('' for none), 13 payload, 14 this store's instance id, 15 turn
-- ms, 16 recovery record JSON ('' for none), 17 the entry's bytes (`committedOpBytes`), 18 history
-- bytes kept (for the ops, and as much for the dedupe records), 19 the dedupe record's bytes
-- (`lastCommitBytes`). Returns {1, srev, orev} if committed, {0, head rev} if not (another
-- incarnation: head -1).
--
-- The shard channel and payload are the broker's (relay/broker/redis-publication.ts,
-- `encodePublication`): publishing here makes the order of publications the order of revisions.
--
-- Turns: a relay that lost the race (the head moved) claims the next commit of the document
-- (`…:turn`, expiring after ARGV[15] ms), and the others yield to it until it has committed.
-- Without that, a relay whose clients commit non-stop would win most races against one whose
-- read-transform-append cycle is a little behind, and starve it; with it, each relay loses at
-- most a couple of times in a row. A yield looks like a lost race to the caller: it reads and
-- tries again.
--
-- XADD goes first among the writes: Redis does not roll back a script that fails halfway, and
-- nothing else has changed if it fails.
--
-- Trimming reads the oldest kept entries' `b` (each leaves the window once: a few per commit
-- amortized). A document written before `orev`, `hb` and `sb` existed (by an older relay) has
-- ops of unknown bytes: its first commit here starts the window at itself, so the bound holds
-- from then on at the cost of that history (an op based before it gets a resync, as after a
-- memory store's restart); its dedupe records are counted from then on, the older ones expire
-- with the document. An entry without `b` is counted by its fields' UTF-8 lengths.

local m = redis.call('HMGET', KEYS[1], 'e', 'rev', 'srev', 'orev', 'hb', 'sb')
if m[1] ~= ARGV[1] then return {0, -1} end
local rev = tonumber(ARGV[2])
local head = tonumber(m[2])
local turn = redis.call('GET', KEYS[4])
if head + 1 ~= rev then
  if not turn or turn == ARGV[14] then redis.call('SET', KEYS[4], ARGV[14], 'PX', ARGV[15]) end
  return {0, head}
end
if turn and turn ~= ARGV[14] then return {0, head} end
local last = redis.call('HGET', KEYS[3], ARGV[7])
if last and tonumber(string.match(last, '^%d+')) >= tonumber(ARGV[6]) then return {0, head} end
local srev = tonumber(m[3])
if ARGV[11] ~= '' then srev = rev end
local fields = {rev .. '-0', 'o', ARGV[3], 'u', ARGV[4], 'c', ARGV[5], 's', ARGV[6], 'b', ARGV[17]}
if ARGV[16] ~= '' then
  table.insert(fields, 'x')
  table.insert(fields, ARGV[16])
end
redis.call('XADD', KEYS[2], unpack(fields))
local maxBytes = tonumber(ARGV[18])
-- The window: ops orev + 1 .. rev, at most historySize of them and maxBytes in all.
local floor = rev - tonumber(ARGV[10])
local orev = tonumber(m[4]) or (rev - 1)
local hb = (tonumber(m[5]) or 0) + tonumber(ARGV[17])
while orev < rev and (orev < floor or hb > maxBytes) do
  local batch = redis.call('XRANGE', KEYS[2], (orev + 1) .. '-0', '+', 'COUNT', 16)
  if #batch == 0 then
    orev = rev
    hb = 0
  end
  for _, e in ipairs(batch) do
    if not (orev < floor or hb > maxBytes) then break end
    local f = e[2]
    local bytes
    local size = 96
    for i = 1, #f, 2 do
      if f[i] == 'b' then bytes = tonumber(f[i + 1]) end
      if f[i] ~= 's' then size = size + 2 * #f[i + 1] end
    end
    hb = hb - (bytes or size)
    orev = tonumber(string.match(e[1], '^%d+'))
  end
end
if hb < 0 then hb = 0 end
local keep = math.min(srev, orev)
if keep > 0 then redis.call('XTRIM', KEYS[2], 'MINID', '~', keep + 1) end
if ARGV[11] ~= '' then redis.call('HSET', KEYS[1], 'srev', rev, 'snap', ARGV[11]) end
-- The client's last commit, most recent in seenq; the least recent go past the byte bound.
redis.call('HSET', KEYS[3], ARGV[7], ARGV[6] .. ' ' .. rev .. ' ' .. ARGV[19])
local sb = tonumber(m[6]) or 0
if redis.call('ZADD', KEYS[5], rev, ARGV[7]) == 1 then sb = sb + tonumber(ARGV[19]) end
while sb > maxBytes and redis.call('ZCARD', KEYS[5]) > 1 do
  local oldest = redis.call('ZPOPMIN', KEYS[5])[1]
  local value = redis.call('HGET', KEYS[3], oldest)
  redis.call('HDEL', KEYS[3], oldest)
  sb = sb - (tonumber(value and string.match(value, '^%d+ %d+ (%d+)')) or 0)
end
if sb < 0 then sb = 0 end
redis.call('HSET', KEYS[1], 'rev', rev, 'orev', orev, 'hb', hb, 'sb', sb)
redis.call('HINCRBY', KEYS[1], 'len', ARGV[8])
for i = 1, 5 do
  if i ~= 4 then redis.call('PEXPIRE', KEYS[i], ARGV[9]) end
end
if turn then redis.call('DEL', KEYS[4]) end
if ARGV[12] ~= '' then redis.call('SPUBLISH', ARGV[12], ARGV[13]) end
return {1, srev, orev}
