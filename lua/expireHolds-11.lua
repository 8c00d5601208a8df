--[[
  Expires every overdue hold of a product, oldest first. Run by the per-second expiry jobs and by the
  sweep; a hold that was released or converted meanwhile is only moved along, so stock returns once.
  A hold whose payment already succeeded (deferred, the order never requested) becomes a paid order.

  Input:
    KEYS[1] product  KEYS[2] used  KEYS[3] holds  KEYS[4] hold queue  KEYS[5] ended list
    KEYS[6] orders  KEYS[7] deferred  KEYS[8] events  KEYS[9] order outbox  KEYS[10] event outbox
    KEYS[11] notices
    ARGV[1] most holds to look at in this call
  Output:
    {1, expired, more (1 = the limit stopped the walk), changes}
      changes: JSON {orders: {seq: status}, events: {event id: result}}
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "orders"
-- @include "deadlines"
local K = { product = KEYS[1], used = KEYS[2], holds = KEYS[3], holdQueue = KEYS[4], ended = KEYS[5],
  orders = KEYS[6], deferred = KEYS[7], events = KEYS[8], outbox = KEYS[9], eventOutbox = KEYS[10], notices = KEYS[11] }
local now = nowMs()
local expired = 0
-- A payment waiting for its hold (deferred) is rare: without any, the call's holds end together, their
-- records, the product's counters and each user's units written once for all (a wide drop expires a few
-- holds per product per second, one call each, and a command per hold cost as much as placing it).
local anyDeferred = rcall('HLEN', K.deferred) > 0
local ending = {}

local more = drainDue(K.holdQueue, K.ended, 'h', tonumber(ARGV[1]), now, function(seq, rec)
  if not rec then return 'gone' end
  local h = parseHold(rec)
  if h.expires > now then return 'later' end
  if h.status == 'a' then
    if not anyDeferred then ending[#ending + 1] = {seq = seq, h = h}
    elseif endActiveHold(K, seq, h, 'e', now) == 'e' then expired = expired + 1 end
  end
  return 'done'
end, function(seqs) return rcall('HMGET', K.holds, unpack(seqs)) end)

endHolds(K.product, K.used, K.holds, ending, 'e')
for _, e in ipairs(ending) do noticeHold(K, 'hold.expired', e.seq, e.h, now) end
return {1, expired + #ending, more, changes()}
