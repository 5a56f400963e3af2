-- RedisDebugStateStore.applyBreakpoint: one breakpoint change, checked against the limits, applied, counted, its revision taken (keys in redis-debug-state-store.ts).
--
-- KEYS: meta, bp. ARGV: action, id, JSON ('' for remove), max breakpoints, max bytes, ttl ms.
-- {1, rev, JSON} if applied (for remove, the removed JSON); {0} if nothing changed; {-1} too many
-- breakpoints; {-2} too many bytes.
local old = redis.call('HGET', KEYS[2], ARGV[2])
if ARGV[1] == 'remove' then
  if not old then return {0} end
  redis.call('HDEL', KEYS[2], ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'bytes', -#old)
else
  if ARGV[1] == 'update' and not old then return {0} end
  if old == ARGV[3] then return {0} end
  if not old and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[4]) then return {-1} end
  local bytes = tonumber(redis.call('HGET', KEYS[1], 'bytes') or '0') + #ARGV[3]
  if old then bytes = bytes - #old end
  if bytes > tonumber(ARGV[5]) then return {-2} end
  redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
  redis.call('HSET', KEYS[1], 'bytes', bytes)
end
local rev = redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('PEXPIRE', KEYS[2], ARGV[6])
if ARGV[1] == 'remove' then return {1, rev, old} end
return {1, rev, ARGV[3]}
