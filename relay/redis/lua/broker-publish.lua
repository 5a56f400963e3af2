-- RedisBroker.publish of a publication kept in history, after broker-ensure-epoch.lua (one kept
-- nowhere is a plain SPUBLISH). Publishes in the format of
-- relay/broker/redis-publication.ts: `<offset>\n<header>\n<data>` on the shard channel, stream
-- entry `<offset>-0` with fields `h` header, `d` data (and `k` its idempotency key, if any).
--
-- One script, so that the offset order and the delivery order are the same order, and an
-- idempotent publish checks its key and publishes in one step (a relay dying in between would
-- otherwise leave a key whose publication never happened). XADD runs before the counter moves:
-- Redis does not roll a failed script back. MAXLEN ~ trims whole stream nodes (cheap); `history`
-- enforces the exact window by offset.
--
-- Idempotency keys live in one hash per channel (field: key, value `<epoch>:<offset>`) for as
-- long as their publication is in the history window, as in the memory broker: each publish that
-- pushes an entry out of the window deletes that entry's key (read from its `k` field), so the
-- hash never holds more than the window (a key per message with a TTL grew Redis's memory by the
-- hour in the soak). A resend that races its original is within the window by far; a client
-- resends only what the resumed history did not show it. A key from another epoch is stale.
-- KEYS: meta, stream, idempotency hash.
-- ARGV: epoch candidate, ttl s, shard channel, header, data, history size, idempotency key
-- ('' = none).
-- Returns {offset, epoch, 0, {}} if published, {original offset, epoch, 1, {original entry} or {}}
-- if the idempotency key was used already.

local window = tonumber(ARGV[6])
if ARGV[7] ~= '' then
  local seen = redis.call('HGET', KEYS[3], ARGV[7])
  if seen then
    local colon = string.find(seen, ':', 1, true)
    if colon and string.sub(seen, 1, colon - 1) == epoch then
      local original = tonumber(string.sub(seen, colon + 1))
      local entries = {}
      -- The original only while it is within the history window that `history` serves.
      if original > tonumber(redis.call('HGET', KEYS[1], 's')) - window then
        local id = original .. '-0'
        entries = redis.call('XRANGE', KEYS[2], id, id)
      end
      return {original, epoch, 1, entries}
    end
  end
end
local offset = tonumber(redis.call('HGET', KEYS[1], 's')) + 1
if offset > window and redis.call('EXISTS', KEYS[3]) == 1 then
  -- The entry this publication pushes out of the window takes its key along. Read before the
  -- XADD: until then MAXLEN ~ has kept it (it keeps at least `window` entries).
  local gone = offset - window
  local out = redis.call('XRANGE', KEYS[2], gone .. '-0', gone .. '-0')[1]
  if out then
    local fields = out[2]
    for i = 1, #fields, 2 do
      if fields[i] == 'k' and redis.call('HGET', KEYS[3], fields[i + 1]) == epoch .. ':' .. gone then
        redis.call('HDEL', KEYS[3], fields[i + 1])
      end
    end
  end
end
if ARGV[7] ~= '' then
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', window, offset .. '-0', 'h', ARGV[4], 'd', ARGV[5], 'k', ARGV[7])
  redis.call('HSET', KEYS[3], ARGV[7], epoch .. ':' .. offset)
  redis.call('EXPIRE', KEYS[3], ARGV[2])
else
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', window, offset .. '-0', 'h', ARGV[4], 'd', ARGV[5])
end
redis.call('HSET', KEYS[1], 's', offset)
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[2])
redis.call('SPUBLISH', ARGV[3], offset .. '\n' .. ARGV[4] .. '\n' .. ARGV[5])
return {offset, epoch, 0, {}}
