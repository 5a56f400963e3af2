-- RedisDocumentStore's load (the keys are described in redis-document-store.ts).
--
-- The head, and what a cache at (incarnation ARGV[1], revision ARGV[2]) needs to reach it: the ops
-- since (mode 'd'), or, if the cache is of another incarnation, too far behind (more than ARGV[3]
-- ops) or past the kept history, the snapshot and the ops after it (mode 'f').
-- KEYS: meta, ops.
-- Returns nil if the document does not exist, else {e, rev, len, srev, mode, snapshot JSON, entries,
-- orev} (orev '' if the document predates it).

local m = redis.call('HMGET', KEYS[1], 'e', 'rev', 'len', 'srev', 'orev')
if not m[1] then return false end
local orev = m[5] or ''
local rev = tonumber(m[2])
local from = tonumber(ARGV[2])
if m[1] == ARGV[1] and from >= 0 and from <= rev and rev - from <= tonumber(ARGV[3]) then
  if from == rev then return {m[1], m[2], m[3], m[4], 'd', '', {}, orev} end
  local first = (from + 1) .. '-0'
  local entries = redis.call('XRANGE', KEYS[2], first, '+')
  if #entries == rev - from and entries[1][1] == first then return {m[1], m[2], m[3], m[4], 'd', '', entries, orev} end
end
local srev = tonumber(m[4])
local entries = {}
if srev < rev then entries = redis.call('XRANGE', KEYS[2], (srev + 1) .. '-0', '+') end
return {m[1], m[2], m[3], m[4], 'f', redis.call('HGET', KEYS[1], 'snap'), entries, orev}
