-- RedisDocumentStore.commit: consecutive ops, all or none (the keys are described in
-- redis-document-store.ts). A group commit: the ops of one document that reached a relay while its
-- previous commit was on its way go in one call, with one publication.
--
-- KEYS: meta, ops, seen, turn, seenq. ARGV: 1 incarnation, 2 the head the relay built the ops on
-- (they get revisions head + 1 .. head + n), 3 n, 4 ttl ms, 5 history size, 6 snapshot JSON at
-- head + n ('' if not due), 7 shard channel ('' for none), 8 payload, 9 this store's instance id,
-- 10 turn ms, 11 history bytes kept (for the ops, and as much for the dedupe records), 12 the
-- length change of all the ops, 13 the most missing ops to answer with, 14 the commit lease in ms
-- (0: none); then 7 per op, from 15: op JSON, user, client id, seq, recovery record JSON ('' for
-- none), the entry's bytes (`committedOpBytes`), the dedupe record's bytes (`lastCommitBytes`).
--
-- Returns {1, srev, orev, home} if committed; else {0, head, missing, records}, nothing changed:
-- - head -1: the document is another incarnation (or gone);
-- - missing: the stream entries after the relay's head up to the head, when another relay moved
--   it (at most ARGV[13] of them, else none): the relay catches its copy up with them and builds
--   its ops again, with no read of its own (its copy is current again);
-- - records: field, value of each dedupe record that has an op's seq committed already (a resend
--   that reached another relay first): the relay acks that op instead.
-- Neither: another relay has the turn (below); the relay tries again.
--
-- The shard channel and payload are the broker's (relay/broker/redis-publication.ts,
-- `encodePublications`): publishing here makes the order of publications the order of revisions.
--
-- Turns: a relay that lost the race (the head moved) claims the next commit of the document
-- (`…:turn`, expiring after ARGV[10] ms), and the others yield to it until it has committed (its
-- next try comes at once, built on the missing ops this answer carries). Without that, a relay
-- whose clients commit non-stop would win most races against one whose catch-up-transform-commit
-- cycle is a little behind, and starve it. Claimed from the first loss: measured with two relays
-- of two editors each on one document (bench:scaleout, relay-x2, alternating rounds), claiming only
-- from the second loss in a row lost the second try too about 40 % of the time, and gave 5-13 %
-- fewer commits/s and a higher ack p99.
--
-- The commit lease (`h`, `hu` in meta; advisory): the store instance that commits a document while
-- no other holds an unexpired lease on it takes the lease, and renews it with each commit. `home`
-- is the holder after this commit: the other relays send it their clients' edits to commit in its
-- groups (commit-forwarding.ts) instead of racing it here. Nothing here refuses a commit for the
-- lease: a relay whose forward went unanswered commits by itself, as safely as ever.

local m = redis.call('HMGET', KEYS[1], 'e', 'rev', 'srev', 'orev', 'hb', 'sb', 'h', 'hu')
if m[1] ~= ARGV[1] then return {0, -1, {}, {}} end
local base = tonumber(ARGV[2])
local n = tonumber(ARGV[3])
local head = tonumber(m[2])
local turn = redis.call('GET', KEYS[4])
if head ~= base then
  if not turn or turn == ARGV[9] then redis.call('SET', KEYS[4], ARGV[9], 'PX', ARGV[10]) end
  local missing = {}
  if head > base and head - base <= tonumber(ARGV[13]) then
    missing = redis.call('XRANGE', KEYS[2], (base + 1) .. '-0', head .. '-0')
  end
  return {0, head, missing, {}}
end
if turn and turn ~= ARGV[9] then return {0, head, {}, {}} end
local records = {}
-- A client's seqs rise within the group too (the relay builds groups so; a resend twice in one
-- group would be committed twice otherwise): the group's own last seq per client, then Redis's.
local grouped = {}
for i = 0, n - 1 do
  local at = 15 + 7 * i
  local field = ARGV[at + 1] .. '\0' .. ARGV[at + 2]
  local seq = tonumber(ARGV[at + 3])
  if grouped[field] then
    if grouped[field] >= seq then return {0, head, {}, {}} end
  else
    local last = redis.call('HGET', KEYS[3], field)
    if last and tonumber(string.match(last, '^%d+')) >= seq then
      table.insert(records, field)
      table.insert(records, last)
    end
  end
  grouped[field] = seq
end
if #records > 0 then return {0, head, {}, records} end
local rev = base + n
local hb = tonumber(m[5]) or 0
for i = 0, n - 1 do
  local at = 15 + 7 * i
  local fields = {(base + 1 + i) .. '-0', 'o', ARGV[at], 'u', ARGV[at + 1], 'c', ARGV[at + 2], 's', ARGV[at + 3], 'b', ARGV[at + 5]}
  if ARGV[at + 4] ~= '' then
    table.insert(fields, 'x')
    table.insert(fields, ARGV[at + 4])
  end
  redis.call('XADD', KEYS[2], unpack(fields))
  hb = hb + tonumber(ARGV[at + 5])
end
local maxBytes = tonumber(ARGV[11])
-- The window: ops orev + 1 .. rev, at most historySize of them and maxBytes in all.
local floor = rev - tonumber(ARGV[5])
local orev = tonumber(m[4]) or base
while orev < rev and (orev < floor or hb > maxBytes) do
  -- Past the count bound only, exactly the entries that leave (usually the group's size).
  local count = 16
  if hb <= maxBytes then count = math.min(16, floor - orev) end
  local batch = redis.call('XRANGE', KEYS[2], (orev + 1) .. '-0', '+', 'COUNT', count)
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
local srev = tonumber(m[3])
if ARGV[6] ~= '' then srev = rev end
local keep = math.min(srev, orev)
if keep > 0 then redis.call('XTRIM', KEYS[2], 'MINID', '~', keep + 1) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'srev', rev, 'snap', ARGV[6]) end
-- Each client's last commit, most recent in seenq; the least recent go past the byte bound.
local sb = tonumber(m[6]) or 0
for i = 0, n - 1 do
  local at = 15 + 7 * i
  local field = ARGV[at + 1] .. '\0' .. ARGV[at + 2]
  local r = base + 1 + i
  redis.call('HSET', KEYS[3], field, ARGV[at + 3] .. ' ' .. r .. ' ' .. ARGV[at + 6])
  if redis.call('ZADD', KEYS[5], r, field) == 1 then sb = sb + tonumber(ARGV[at + 6]) end
end
while sb > maxBytes and redis.call('ZCARD', KEYS[5]) > 1 do
  local oldest = redis.call('ZPOPMIN', KEYS[5])[1]
  local value = redis.call('HGET', KEYS[3], oldest)
  redis.call('HDEL', KEYS[3], oldest)
  sb = sb - (tonumber(value and string.match(value, '^%d+ %d+ (%d+)')) or 0)
end
if sb < 0 then sb = 0 end
redis.call('HSET', KEYS[1], 'rev', rev, 'orev', orev, 'hb', hb, 'sb', sb)
redis.call('HINCRBY', KEYS[1], 'len', ARGV[12])
for i = 1, 5 do
  if i ~= 4 then redis.call('PEXPIRE', KEYS[i], ARGV[4]) end
end
if turn then redis.call('DEL', KEYS[4]) end
local home = m[7] or ''
local lease = tonumber(ARGV[14])
if lease > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  if home == '' or home == ARGV[9] or (tonumber(m[8]) or 0) < now then
    home = ARGV[9]
    redis.call('HSET', KEYS[1], 'h', home, 'hu', now + lease)
  end
end
if ARGV[7] ~= '' then redis.call('SPUBLISH', ARGV[7], ARGV[8]) end
return {1, srev, orev, home}
