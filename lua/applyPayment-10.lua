--[[
  Applies a payment webhook event atomically with the order change. The event id is the idempotency
  key: the same event again answers "duplicate"; the same id with another body is refused.
  An event for a hold whose order does not exist yet is stored (deferred) and applied when it does.
  A success for a hold or order whose reservation ended re-reserves stock, or asks for a refund.

  Input:
    KEYS[1] product  KEYS[2] used  KEYS[3] holds  KEYS[4] orders  KEYS[5] deferred  KEYS[6] events
    KEYS[7] order outbox  KEYS[8] event outbox  KEYS[9] ended list  KEYS[10] notices
    ARGV[1] hold seq   ARGV[2] event id   ARGV[3] kind (succeeded | failed)   ARGV[4] amount minor
    ARGV[5] currency   ARGV[6] fingerprint of the event's content   ARGV[7] raw payload
  Output:
    {1, result, order, changes}   result: applied | duplicate | deferred | ignored
      order: the order record (JSON), "" when the hold has none; changes: JSON {orders: {seq: status},
      events: {event id: result}}
    {-10} no such hold   {-31, expected total, expected currency} amount mismatch (event recorded)
    {-32} event id reused with another body
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "orders"
local K = { product = KEYS[1], used = KEYS[2], holds = KEYS[3], orders = KEYS[4], deferred = KEYS[5],
  events = KEYS[6], outbox = KEYS[7], eventOutbox = KEYS[8], ended = KEYS[9], notices = KEYS[10] }
local seq, eventId, kind, amount, currency, fp = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6]

local known = rcall('HGET', K.events, eventId)
if known then
  local ev = cjson.decode(known)
  if ev.fp ~= fp then return {-32} end
  if ev.result == 'amount_mismatch' then return {-31, ev.expected_total, ev.expected_currency} end
  return {1, 'duplicate', rcall('HGET', K.orders, seq) or '', changes()}
end

local rec = rcall('HGET', K.holds, seq)
if not rec then return {-10} end
local h = parseHold(rec)
local now = nowMs()
local o = loadOrder(K.orders, seq)
local ev = { fp = fp, kind = kind, payload = ARGV[7], at = now }
-- the event is remembered for the retention period, then dropped (Postgres keeps it)
rcall('RPUSH', K.ended, 'e' .. eventId .. ':' .. now)

local expectedTotal = o and o.total or h.price * h.qty
local expectedCurrency = o and o.currency or rcall('HGET', K.product, 'currency')
if amount ~= expectedTotal or currency ~= expectedCurrency then
  ev.result, ev.expected_total, ev.expected_currency = 'amount_mismatch', expectedTotal, expectedCurrency
  saveEvent(K, eventId, ev)
  return {-31, expectedTotal, expectedCurrency}
end

if not o and h.status == 'a' and h.expires <= now and endActiveHold(K, seq, h, 'e', now) == 'converted' then
  o = loadOrder(K.orders, seq)
end
if o then
  ev.result = applyOutcome(K, seq, o, kind, now)
elseif h.status == 'a' then
  -- the order is not created yet: keep the event for the conversion. The first success stays; a
  -- success replaces a deferred failure; anything else changes nothing.
  local d = rcall('HGET', K.deferred, seq)
  local earlier = d and cjson.decode(d)
  if earlier and (earlier.kind == 'succeeded' or kind == 'failed') then
    ev.result = 'ignored'
  else
    if earlier then ignoreEvent(K, earlier.event_id) end
    rcall('HSET', K.deferred, seq, cjson.encode({ event_id = eventId, kind = kind }))
    ev.result = 'deferred'
  end
else
  if kind == 'succeeded' then
    -- paid for a hold that ended without an order: an order for it, sold again or refunded
    o = newOrder(K, seq, h, now, 0)
    reReserve(K, o)
    saveOrder(K.orders, K.outbox, seq, o, now)
    rcall('RPUSH', K.ended, 'o' .. seq .. ':' .. now)
    ev.result = 'applied'
  else
    ev.result = 'ignored'
  end
end
saveEvent(K, eventId, ev)
return {1, ev.result, rcall('HGET', K.orders, seq) or '', changes()}
