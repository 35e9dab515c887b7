-- Settle a reservation with the store's answer (see Bucket.Settle).
-- KEYS: state hash, in-flight zset.
-- ARGV: reservation id, points to give back, currentlyAvailable,
-- maximumAvailable, restoreRate (the last three -1 when unknown), the
-- reservation's seq.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idle = 600000
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local refund = tonumber(ARGV[2])
local reported = tonumber(ARGV[3])
local h = redis.call('HMGET', KEYS[1], 'avail', 'at', 'max', 'rate', 'seq')
local oldRate = tonumber(h[4])
local avail = tonumber(h[1])
local maxAv = tonumber(ARGV[4])
if maxAv < 0 then maxAv = tonumber(h[3]) end
local rate = tonumber(ARGV[5])
if rate < 0 then rate = oldRate end
if maxAv == nil or rate == nil then
  return 0 -- nothing known about the shop: nothing to correct
end
if avail == nil then
  avail = maxAv
else
  avail = math.min(tonumber(h[3]) or maxAv, avail + (now - (tonumber(h[2]) or now)) / 1000 * (oldRate or rate))
end
avail = math.min(maxAv, avail + refund)
if reported >= 0 then
  -- Exactly only when nothing else is in flight and nothing was granted
  -- after this call: a later call may have been spent at the store after
  -- this answer was written, and the answer would forget it.
  if redis.call('ZCARD', KEYS[2]) == 0 and tonumber(h[5]) == tonumber(ARGV[6]) then
    avail = reported
  else
    avail = math.min(avail, reported)
  end
end
local owed = 0
if avail < 0 then owed = math.ceil(-avail / rate * 1000) end
redis.call('HSET', KEYS[1], 'avail', tostring(avail), 'at', now, 'max', tostring(maxAv), 'rate', tostring(rate))
redis.call('PEXPIRE', KEYS[1], idle + owed)
return 1
