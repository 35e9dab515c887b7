-- Reserve cost points of a shop's bucket (see Bucket.Reserve).
-- KEYS: state hash, in-flight zset, the operation's ticket.
-- ARGV: cost, max wait ms, default max, default rate, reservation id, lease ms.
-- Returns {granted, wait ms, seq}: granted 1 = sleep wait then call; 0 =
-- come back after wait (the points stay reserved under the ticket). seq
-- numbers the shop's reservations, so Settle knows whether a later one was
-- granted (and may already be spent at the store) after this one.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local maxWait = tonumber(ARGV[2])
local lease = tonumber(ARGV[6])
local idle = 600000

local ticket = redis.call('GET', KEYS[3])
if ticket then
  local due, old = string.match(ticket, '^(%d+) (.*)$')
  due = tonumber(due)
  if due - now > maxWait then
    return {0, due - now, 0}
  end
  local wait = math.max(due - now, 0)
  local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('DEL', KEYS[3])
  redis.call('ZREM', KEYS[2], old)
  redis.call('ZADD', KEYS[2], now + wait + lease, ARGV[5])
  return {1, wait, seq}
end

local h = redis.call('HMGET', KEYS[1], 'avail', 'at', 'max', 'rate')
local maxAv = tonumber(h[3]) or tonumber(ARGV[3])
local rate = tonumber(h[4]) or tonumber(ARGV[4])
local avail = tonumber(h[1])
if avail == nil then
  avail = maxAv
else
  avail = math.min(maxAv, avail + (now - (tonumber(h[2]) or now)) / 1000 * rate)
end
avail = avail - cost
local wait = 0
if avail < 0 then
  wait = math.ceil(-avail / rate * 1000)
end
redis.call('HSET', KEYS[1], 'avail', tostring(avail), 'at', now, 'max', tostring(maxAv), 'rate', tostring(rate))
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('PEXPIRE', KEYS[1], idle + wait)
redis.call('ZADD', KEYS[2], now + wait + lease, ARGV[5])
redis.call('PEXPIRE', KEYS[2], idle + wait + lease)
if wait > maxWait then
  redis.call('SET', KEYS[3], tostring(now + wait) .. ' ' .. ARGV[5], 'PX', wait + lease)
  return {0, wait, seq}
end
return {1, wait, seq}
