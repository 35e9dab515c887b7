-- Reserve cost points of a shop's bucket (see Bucket.Reserve).
-- KEYS: state hash, in-flight zset, the operation's ticket.
-- ARGV: cost, max wait ms, default max, default rate, reservation id, lease ms.
-- Returns {granted, wait ms, seq}: granted 1 = the points are taken, sleep
-- wait then call; 0 = come back after wait with the ticket. seq numbers
-- the shop's granted reservations, so Settle knows whether a later one was
-- granted (and may already be spent at the store) after this one.
--
-- A ticket is a place in line, not points: the points are taken when its
-- holder comes back. Points set aside for a job that comes back late would
-- be lost to the store's cap (a full bucket stops filling) while the model
-- still counted them, and the late jobs would then overdraw the store.
-- The horizon is when the last ticket handed out is due; a new call while
-- it is ahead queues behind it, one cost's worth of restore time later.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local cost = tonumber(ARGV[1])
local maxWait = tonumber(ARGV[2])
local lease = tonumber(ARGV[6])
local idle = 600000

local h = redis.call('HMGET', KEYS[1], 'avail', 'at', 'max', 'rate', 'horizon')
local maxAv = tonumber(h[3]) or tonumber(ARGV[3])
local rate = tonumber(h[4]) or tonumber(ARGV[4])
local avail = tonumber(h[1])
if avail == nil then
  avail = maxAv
else
  avail = math.min(maxAv, avail + (now - (tonumber(h[2]) or now)) / 1000 * rate)
end
local horizon = tonumber(h[5]) or 0

local function save(av, hz)
  redis.call('HSET', KEYS[1], 'avail', tostring(av), 'at', now, 'max', tostring(maxAv), 'rate', tostring(rate), 'horizon', hz)
  redis.call('PEXPIRE', KEYS[1], idle + math.max(hz - now, 0))
end

local function ticket(due)
  redis.call('SET', KEYS[3], tostring(due), 'PX', due - now + lease)
  return {0, due - now, 0}
end

local returning = false
local held = redis.call('GET', KEYS[3])
if held then
  local due = tonumber(held)
  if due - now > maxWait then
    return {0, due - now, 0}
  end
  redis.call('DEL', KEYS[3])
  returning = true
end

if not returning and horizon > now then
  local due = horizon + math.ceil(cost / rate * 1000)
  save(avail, due)
  return ticket(due)
end

local after = avail - cost
local wait = 0
if after < 0 then
  wait = math.ceil(-after / rate * 1000)
end
if wait > maxWait then
  local due = now + wait
  if returning then
    save(avail, horizon)
  else
    save(avail, due)
  end
  return ticket(due)
end
save(after, horizon)
local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1)
redis.call('ZADD', KEYS[2], now + wait + lease, ARGV[5])
redis.call('PEXPIRE', KEYS[2], idle + wait + lease)
return {1, wait, seq}
