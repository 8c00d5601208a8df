--[[
  Expires every order whose payment deadline passed while it was still pending (stock: pending ->
  available), oldest first. Orders that were paid or failed meanwhile are only moved along.

  Input:
    KEYS[1] product  KEYS[2] used  KEYS[3] orders  KEYS[4] order queue  KEYS[5] ended list  KEYS[6] order outbox
    ARGV[1] most orders to look at in this call
  Output:
    {1, expired, more (1 = the limit stopped the walk), changes}
      changes: JSON {orders: {seq: status}, events: {event id: result}}
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "orders"
-- @include "ttls"
-- @include "deadlines"
local K = { product = KEYS[1], used = KEYS[2], orders = KEYS[3], orderQueue = KEYS[4], ended = KEYS[5], outbox = KEYS[6] }
local now = nowMs()
local expired = 0

local more = drainDue(K.orderQueue, K.ended, 'o', tonumber(ARGV[1]), now, function(seq)
  local o = loadOrder(K.orders, seq)
  if not o then return 'gone' end
  if o.due > now then return 'later' end
  if o.status == 'pending_payment' then
    rcall('HINCRBY', K.product, 'pending', -o.qty)
    rcall('HINCRBY', K.product, 'available', o.qty)
    releaseUsed(K.used, o.user, o.qty)
    o.status = 'expired'
    saveOrder(K.orders, K.outbox, seq, o, now)
    expired = expired + 1
  end
  return 'done'
end)
return {1, expired, more, changes()}
