-- Order record (JSON): {status, qty, unit_price, total, currency, user, created, due, updated}.
-- Every change lands in the outbox, which the persistence worker drains into Postgres, and in CHANGES,
-- which the script returns (changes()) so the caller can hand the new states to the worker at once.
local CHANGES = { orders = {}, events = {}, notices = 0 }
local function changes()
  CHANGES.notices = NOTICES.count
  return cjson.encode(CHANGES)
end
-- changes() and a fresh start, for a script over several products that reports each one's own
local function takeChanges()
  local encoded = changes()
  CHANGES.orders, CHANGES.events, NOTICES.count = {}, {}, 0
  return encoded
end
local function loadOrder(ordersKey, seq)
  local rec = redis.call('HGET', ordersKey, seq)
  if rec then return cjson.decode(rec) end
end

local function saveOrder(ordersKey, outboxKey, seq, o, now)
  o.updated = now
  redis.call('HSET', ordersKey, seq, cjson.encode(o))
  redis.call('SADD', outboxKey, seq)
  CHANGES.orders[seq] = o.status
end

-- A pending order for a hold (the hold's price snapshot); the hold becomes c(onverted).
local function newOrder(K, seq, h, now, dueMs)
  h.status = 'c'
  redis.call('HSET', K.holds, seq, formatHold(h))
  noticeHold(K, 'hold.converted', seq, h, now)
  return { status = 'pending_payment', qty = h.qty, unit_price = h.price, total = h.price * h.qty,
    currency = redis.call('HGET', K.product, 'currency'), user = h.user, created = now, due = now + dueMs }
end

-- Moves a held hold into a pending order (stock: held -> pending).
local function convertHold(K, seq, h, now, paymentTtl)
  local o = newOrder(K, seq, h, now, paymentTtl)
  redis.call('HINCRBY', K.product, 'held', -h.qty)
  redis.call('HINCRBY', K.product, 'pending', h.qty)
  return o
end

-- Sells an order's units again after its reservation ended (late payment): paid if stock allows,
-- refund_required otherwise. Money is never kept without stock.
local function reReserve(K, o)
  local available = tonumber(redis.call('HGET', K.product, 'available'))
  if available >= o.qty then
    redis.call('HINCRBY', K.product, 'available', -o.qty)
    redis.call('HINCRBY', K.product, 'sold', o.qty)
    redis.call('HINCRBY', K.used, o.user, o.qty)
    o.status = 'paid'
  else
    o.status = 'refund_required'
  end
end

-- Applies a payment outcome to an order. Status only moves forward:
-- pending_payment -> paid | payment_failed; expired | payment_failed -> paid | refund_required (late success).
-- Returns 'applied', or 'ignored' when the event cannot change the order (e.g. a failure after a success).
local function applyOutcome(K, seq, o, kind, now)
  if kind == 'succeeded' then
    if o.status == 'pending_payment' then
      redis.call('HINCRBY', K.product, 'pending', -o.qty)
      redis.call('HINCRBY', K.product, 'sold', o.qty)
      o.status = 'paid'
    elseif o.status == 'expired' or o.status == 'payment_failed' then
      reReserve(K, o)
    else
      return 'ignored'
    end
  else
    if o.status ~= 'pending_payment' then return 'ignored' end
    redis.call('HINCRBY', K.product, 'pending', -o.qty)
    redis.call('HINCRBY', K.product, 'available', o.qty)
    releaseUsed(K.used, o.user, o.qty)
    o.status = 'payment_failed'
  end
  saveOrder(K.orders, K.outbox, seq, o, now)
  return 'applied'
end

-- Payment event record (JSON): {fp, kind, result, payload, at}; every change lands in the event outbox.
local function saveEvent(K, eventId, ev)
  redis.call('HSET', K.events, eventId, cjson.encode(ev))
  redis.call('SADD', K.eventOutbox, eventId)
  CHANGES.events[eventId] = ev.result
end

-- Applies a payment that arrived before its order, now that the order exists.
local function applyDeferred(K, seq, o, now)
  local d = redis.call('HGET', K.deferred, seq)
  if not d then return end
  redis.call('HDEL', K.deferred, seq)
  local deferred = cjson.decode(d)
  local raw = redis.call('HGET', K.events, deferred.event_id)
  if not raw then return end
  local ev = cjson.decode(raw)
  ev.result = applyOutcome(K, seq, o, ev.kind, now)
  saveEvent(K, deferred.event_id, ev)
end

-- Marks a stored event as having no effect (a deferred payment that something else overtook).
local function ignoreEvent(K, eventId)
  local raw = redis.call('HGET', K.events, eventId)
  if not raw then return end
  local ev = cjson.decode(raw)
  ev.result = 'ignored'
  saveEvent(K, eventId, ev)
end

-- Ends an active hold as r(eleased) or e(xpired). A payment that already succeeded for it (deferred,
-- its order never requested) makes it a paid order instead: money is never kept without stock.
-- Returns 'converted' in that case, else the hold's new status.
local function endActiveHold(K, seq, h, status, now)
  local d = redis.call('HGET', K.deferred, seq)
  if d then
    local deferred = cjson.decode(d)
    if deferred.kind == 'succeeded' then
      local o = convertHold(K, seq, h, now, 0)
      saveOrder(K.orders, K.outbox, seq, o, now)
      applyDeferred(K, seq, o, now)
      redis.call('RPUSH', K.ended, 'o' .. seq .. ':' .. now)
      return 'converted'
    end
    redis.call('HDEL', K.deferred, seq)
    ignoreEvent(K, deferred.event_id)
  end
  endHolds(K.product, K.used, K.holds, {{seq = seq, h = h}}, status)
  noticeHold(K, status == 'r' and 'hold.released' or 'hold.expired', seq, h, now)
  return status
end
