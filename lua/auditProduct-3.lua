--[[
  Recomputes a product's held and pending units from its hold and order records and compares them
  with the counters. With ARGV[1] = 1 it repairs counter drift when that is provably safe: the records
  are the truth for held and pending, `sold` is kept, and `available` takes the rest only if it stays >= 0.
  (O(records): an operator's tool, not a hot path.)

  Input:
    KEYS[1] product  KEYS[2] holds  KEYS[3] orders
    ARGV[1] 1 = repair, 0 = report only
  Output:
    {1, audit}   audit: JSON {counters: {total, available, held, pending, sold}, records: {held, pending, paid}, repaired: bool}
]]
local rcall = redis.call
-- @include "holds"
local c = rcall('HMGET', KEYS[1], 'total', 'available', 'held', 'pending', 'sold')
local counters = { total = tonumber(c[1]), available = tonumber(c[2]), held = tonumber(c[3]),
  pending = tonumber(c[4]), sold = tonumber(c[5]) }
local records = { held = 0, pending = 0, paid = 0 }

local holds = rcall('HVALS', KEYS[2])
for i = 1, #holds do
  local h = parseHold(holds[i])
  if h.status == 'a' then records.held = records.held + h.qty end
end
local orders = rcall('HVALS', KEYS[3])
for i = 1, #orders do
  local o = cjson.decode(orders[i])
  if o.status == 'pending_payment' then records.pending = records.pending + o.qty end
  if o.status == 'paid' then records.paid = records.paid + o.qty end
end

local repaired = false
local drift = counters.held ~= records.held or counters.pending ~= records.pending
  or counters.total ~= counters.available + counters.held + counters.pending + counters.sold
local available = counters.total - records.held - records.pending - counters.sold
if ARGV[1] == '1' and drift and available >= 0 then
  rcall('HSET', KEYS[1], 'held', records.held, 'pending', records.pending, 'available', available)
  repaired = true
end
return {1, cjson.encode({ counters = counters, records = records, repaired = repaired })}
