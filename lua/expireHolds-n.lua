--[[
  Expires every overdue hold of one or more products, oldest first. Run by the per-second expiry jobs
  and by the sweep; a hold that was released or converted meanwhile is only moved along, so stock
  returns once. A hold whose payment already succeeded (deferred, the order never requested) becomes a
  paid order. A job's products share calls, as many as the caller joins (products whose keys share a
  Redis Cluster slot; any products on a standalone Redis): a call's own cost (dispatch, the definitions
  below, TIME) was most of an expiry once a drop spreads to a hold or two per product and second.

  Input: eleven KEYS per product, the i-th product's at KEYS[11 * (i - 1) + 1 ..]:
    +1 product  +2 used  +3 holds  +4 hold queue  +5 ended list  +6 orders  +7 deferred  +8 events
    +9 order outbox  +10 event outbox  +11 notices
    ARGV[1] most holds to look at per product in this call
  Output:
    {1, then per product, in KEYS' order: expired, more (1 = the limit stopped the walk), changes}
      changes: JSON {orders: {seq: status}, events: {event id: result}, notices: count}
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "orders"
-- @include "ttls"
-- @include "deadlines"
local now = nowMs()
local limit = tonumber(ARGV[1])
local replies = {1}

-- One product's overdue holds. A payment waiting for its hold (deferred) is rare: without any, the
-- holds end together, their records, the product's counters and each user's units written once for all
-- (a command per hold cost as much as placing the hold).
local function expireProduct(K)
  local expired = 0
  local anyDeferred = rcall('HLEN', K.deferred) > 0
  local ending = {}
  local more = drainDue(K.holdQueue, K.ended, 'h', limit, now, function(seq, rec)
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
  replies[#replies + 1], replies[#replies + 2], replies[#replies + 3] = expired + #ending, more, takeChanges()
end

for base = 0, #KEYS - 1, 11 do
  expireProduct({ product = KEYS[base + 1], used = KEYS[base + 2], holds = KEYS[base + 3], holdQueue = KEYS[base + 4],
    ended = KEYS[base + 5], orders = KEYS[base + 6], deferred = KEYS[base + 7], events = KEYS[base + 8],
    outbox = KEYS[base + 9], eventOutbox = KEYS[base + 10], notices = KEYS[base + 11] })
end
return replies
