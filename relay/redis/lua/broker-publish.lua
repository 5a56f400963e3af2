-- RedisBroker.publish, after broker-ensure-epoch.lua. Publishes in the format of
-- relay/broker/redis-publication.ts: `<offset>\n<header>\n<data>` on the shard channel, stream
-- entry `<offset>-0` with fields `h` header, `d` data.
--
-- One script, so that the offset order and the delivery order are the same order, and an
-- idempotent publish checks its key and publishes in one step (a relay dying in between would
-- otherwise leave a key whose publication never happened). XADD runs before the counter moves:
-- Redis does not roll a failed script back. MAXLEN ~ trims whole stream nodes (cheap); `history`
-- enforces the exact window by offset. A key from another epoch is stale: history was lost.
-- KEYS: meta, stream, idempotency key (untouched unless ARGV[8] is set).
-- ARGV: epoch candidate, ttl s, shard channel, header, data, keep ('1'|'0'), history size,
-- idempotency ttl s ('' = no key).
-- Returns {offset, epoch, 0, {}} if published, {original offset, epoch, 1, {original entry} or {}}
-- if the idempotency key was used already.

if ARGV[8] ~= '' then
  local seen = redis.call('GET', KEYS[3])
  if seen then
    local colon = string.find(seen, ':', 1, true)
    if colon and string.sub(seen, 1, colon - 1) == epoch then
      local original = tonumber(string.sub(seen, colon + 1))
      local entries = {}
      -- The original only while it is within the history window that `history` serves.
      if original > tonumber(redis.call('HGET', KEYS[1], 's')) - tonumber(ARGV[7]) then
        local id = original .. '-0'
        entries = redis.call('XRANGE', KEYS[2], id, id)
      end
      return {original, epoch, 1, entries}
    end
  end
end
local offset = 0
if ARGV[6] == '1' then
  offset = tonumber(redis.call('HGET', KEYS[1], 's')) + 1
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[7], offset .. '-0', 'h', ARGV[4], 'd', ARGV[5])
  redis.call('HSET', KEYS[1], 's', offset)
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  redis.call('EXPIRE', KEYS[2], ARGV[2])
  if ARGV[8] ~= '' then redis.call('SET', KEYS[3], epoch .. ':' .. offset, 'EX', ARGV[8]) end
end
redis.call('SPUBLISH', ARGV[3], offset .. '\n' .. ARGV[4] .. '\n' .. ARGV[5])
return {offset, epoch, 0, {}}
