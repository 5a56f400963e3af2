-- RedisBroker.history, after broker-ensure-epoch.lua.
--
-- Creates the epoch if needed (a client must get a position it can later resume from, even on a
-- channel without history yet). Recovered iff same epoch, not ahead of the top, within the last
-- `history size` offsets, and the stream really starts right after `since` (it may have expired).
-- KEYS: meta, stream.
-- ARGV: epoch candidate, ttl s, since offset, since epoch, count, history size.
-- Returns {top offset, epoch, recovered (1|0), entries}.

local top = tonumber(redis.call('HGET', KEYS[1], 's'))
redis.call('EXPIRE', KEYS[1], ARGV[2])
local since = tonumber(ARGV[3])
if ARGV[4] ~= epoch or since > top or since < top - tonumber(ARGV[6]) then return {top, epoch, 0, {}} end
if since == top then return {top, epoch, 1, {}} end
local first = (since + 1) .. '-0'
local entries = redis.call('XRANGE', KEYS[2], first, '+', 'COUNT', ARGV[5])
if #entries == 0 or entries[1][1] ~= first then return {top, epoch, 0, {}} end
return {top, epoch, 1, entries}
