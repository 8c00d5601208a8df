--[[
  Converts a hold into an order awaiting payment (stock: held -> pending). One hold gives at most one
  order: converting again returns the same order. A payment that arrived first (deferred) is applied here.

  Input:
    KEYS[1] product  KEYS[2] used  KEYS[3] holds  KEYS[4] orders  KEYS[5] order queue
    KEYS[6] deferred  KEYS[7] events  KEYS[8] order outbox  KEYS[9] event outbox  KEYS[10] ended list
    KEYS[11] notices
    ARGV[1] hold seq (= order seq)   ARGV[2] user id   ARGV[3] payment ttl ms
  Output:
    {1, order, changes}   order created now     {2, order, changes}   the hold's existing order
      order: the order record (JSON); changes: JSON {orders: {seq: status}, events: {event id: result}}
    {-10} no such hold for this user   {-11} hold released   {-12} hold expired
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "orders"
-- @include "ttls"
local K = { product = KEYS[1], used = KEYS[2], holds = KEYS[3], orders = KEYS[4], orderQueue = KEYS[5],
  deferred = KEYS[6], events = KEYS[7], outbox = KEYS[8], eventOutbox = KEYS[9], ended = KEYS[10], notices = KEYS[11] }
local seq, user = ARGV[1], ARGV[2]

local rec = rcall('HGET', K.holds, seq)
if not rec then return {-10} end
local h = parseHold(rec)
if h.user ~= user then return {-10} end
if h.status == 'c' then
  return {2, rcall('HGET', K.orders, seq), changes()}
end
if h.status == 'r' then return {-11} end
if h.status == 'e' then return {-12} end
local now = nowMs()
if h.expires <= now then
  -- too late for an order, unless its payment already came in: then it is a paid order now
  if endActiveHold(K, seq, h, 'e', now) == 'converted' then
    return {1, rcall('HGET', K.orders, seq), changes()}
  end
  return {-12}
end

local o = convertHold(K, seq, h, now, tonumber(ARGV[3]))
saveOrder(K.orders, K.outbox, seq, o, now)
local payTtl, lastPayTtl = ARGV[3], rcall('HGET', K.product, 'pay_ttl')
if lastPayTtl ~= payTtl then
  noteTtl(K.product, K.orderQueue, 'pay_ttl', payTtl, lastPayTtl, now, function(s) local d = loadOrder(K.orders, s); return d and d.due or 0 end)
end
rcall('RPUSH', K.orderQueue, seq)
applyDeferred(K, seq, o, now)
return {1, rcall('HGET', K.orders, seq), changes()}
