--[[
  Places stock holds on one or more products: each product's requests taken in order, each checked and
  applied as if alone (sale window, idempotency key, per-user limit, stock), all in one atomic step.
  Requests that arrive together share one call: each product's record is read and written once for all
  of its requests, and the call's own cost (dispatch, TIME) is shared by every product in it. The
  caller joins in one call only products whose keys share a Redis Cluster slot (any products on a
  standalone Redis). Redis TIME is the clock. A product sold through a waiting room or a raffle takes
  holds only from customers whose ticket admits them now (tickets.lua).

  Input: ten KEYS per product, the i-th product's at KEYS[10 * (i - 1) + 1 ..]:
    +1 product hash      +2 used hash (user -> units)   +3 holds hash (seq -> record)
    +4 hold queue list   +5..+8 idempotency buckets for the days ARGV[3] - 2 .. ARGV[3] + 1
    +9 tickets hash (read only for a product with admission "queue" or "raffle")
    +10 notices (written only while hold events are subscribed to: the product's hold_events)
    ARGV[1] hold ttl ms   ARGV[2] idempotency bucket ms   ARGV[3] the caller's day number (bucket of key +7)
    ARGV[4..] per product, in KEYS' order: its number of requests, then three per request: user id,
    qty, idempotency key ("" = none)
  Output: {1, created ms, expires ms, then per product: the notices it wrote, then one item per request,
  in order}. A hold placed by this call is its seq alone (an integer; it has the call's created and
  expires times); any other item is a string of colon-separated numbers, its code first:
    "2:seq:created ms:expires ms"     replay of the key's earlier hold (same qty)
    "-1"                              product not found
    "-2:available"                    insufficient stock
    "-3" sale not started             "-4" sale ended
    "-5:limit:used"                   per-user limit exceeded
    "-6"                              idempotency key reused with another body
    "-7"                              the key's hold record is gone (retention passed)
    "-8"                              not admitted (waiting room or raffle)
  (Flat on purpose: Redis converts every table a script returns field by field, slowly, so a table
  per request would cost more than placing the hold.)
]]
local rcall = redis.call
-- (locals: a global is looked up by name on every use)
local KEYS, ARGV = KEYS, ARGV
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "tickets"
-- @include "ttls"
local now = nowMs()
local ttl = ARGV[1]
local expires = now + tonumber(ttl)
local nowStr, expiresStr = int(now), int(expires)

-- the buckets of Redis's day and the day before, among the four the caller passed (key +7 = its day):
-- a caller whose clock is a little ahead of or behind Redis's still finds both
local bucketMs, callerDay = tonumber(ARGV[2]), tonumber(ARGV[3])
local day = math.floor(now / bucketMs)
local slot = day - callerDay + 7
local firstSlot, lastSlot = math.max(5, slot - 1), math.min(8, slot)
local writeSlot, writeDay = slot, day
-- a caller days off Redis keeps its keys in its own day's bucket, and looks for them there too
if slot < 5 or slot > 8 then writeSlot, writeDay, firstSlot, lastSlot = 7, callerDay, 7, 7 end
local writeDayStr = int(writeDay)

local replies = {1, now, expires}

-- The product being placed: products are placed one after another, so one set of locals serves them
-- all (functions built per product would cost more than a keyed hold's own reads). Its keys are
-- KEYS[B + 1 .. B + 10].
local B, closed, limit, available, held, seq, gated, unused, lookFrom
-- What a product's requests place, written at the end so that each key is written once rather than per
-- hold: the seqs in order, and the records and keys as HSET's arguments, in arrays every product of the
-- call fills again up to qn, hn and kn; and, for a product with several requests, seq -> record and
-- idempotency field -> "qty:seq", for a key used again in the same call. A wide drop's call places one
-- hold on each of many products, and tables made per product cost more than the hold's own writes.
local queued, holdFields, keyFields = {}, {}, {}
local qn, hn, kn, newHolds, newKeys
-- every record a product's requests write is "a|qty" .. recordTail .. user (see formatHold; built without a table per hold)
local recordTail

-- the customer's ticket if it admits a hold now (admitted, not used yet, within its window), else nil:
-- an admission is one customer's one hold, so a unit that comes back goes to the next in line
local function admission(user)
  local rec = rcall('HGET', KEYS[B + 9], user)
  if not rec then return nil end
  local t = parseTicket(rec)
  if t.status == 'a' and now < t.untilMs then return t end
end

-- the previous day's bucket is read only if it exists: a sale's first day has none
local function bucketsToSearch()
  if not lookFrom then
    lookFrom = firstSlot
    if firstSlot < lastSlot and rcall('EXISTS', KEYS[B + firstSlot]) == 0 then lookFrom = lastSlot end
  end
  return lookFrom
end

-- the key's earlier hold, "-6" for another body, "-7" when its record is gone, or nil when the key is new
local function replay(field, qty)
  local found = newKeys and newKeys[field]
  if not found then
    for i = bucketsToSearch(), lastSlot do
      found = rcall('HGET', KEYS[B + i], field)
      if found then break end
    end
  end
  if not found then return nil end
  local fqty, fseq = string.match(found, '^(%d+):(%d+)$')
  if tonumber(fqty) ~= qty then return '-6' end
  local rec = newHolds and newHolds[fseq] or rcall('HGET', KEYS[B + 3], fseq)
  if not rec then return '-7' end
  local h = parseHold(rec)
  return '2:' .. fseq .. ':' .. int(h.created) .. ':' .. int(h.expires)
end

local function place(user, qtyArg, idemKey)
  local qty = tonumber(qtyArg)
  local idemField
  if idemKey ~= '' then
    -- (a user id holds no control characters, so NUL keeps "ab"+"c" apart from "a"+"bc")
    idemField = user .. '\0' .. idemKey
    local earlier = replay(idemField, qty)
    if earlier then return earlier end
  end
  if closed then return closed end
  local ticket
  if gated then
    ticket = admission(user)
    if not ticket then return '-8' end
  end

  -- the user's units are counted whether or not there is a limit (one may be set later), read only if there is
  if limit then
    local used = tonumber(rcall('HGET', KEYS[B + 2], user) or '0')
    if used + qty > limit then return '-5:' .. int(limit) .. ':' .. int(used) end
  end
  if available < qty then return '-2:' .. int(available) end

  available, held, seq = available - qty, held + qty, seq + 1
  local seqStr = int(seq)
  rcall('HINCRBY', KEYS[B + 2], user, qtyArg)
  local rec = 'a|' .. qtyArg .. recordTail .. user
  if newHolds then newHolds[seqStr] = rec end
  holdFields[hn + 1], holdFields[hn + 2], hn = seqStr, rec, hn + 2
  qn = qn + 1
  queued[qn] = seqStr
  if idemField then
    local v = qtyArg .. ':' .. seqStr
    if newKeys then newKeys[idemField] = v end
    keyFields[kn + 1], keyFields[kn + 2], kn = idemField, v, kn + 2
  end
  if ticket then
    ticket.status, unused = 'u', unused - 1
    rcall('HSET', KEYS[B + 9], user, formatTicket(ticket))
  end
  return seq
end

-- One product's requests: KEYS[base + 1 .. base + 10] its keys, its requests at ARGV[at + 1 .. at + 3n].
local function placeOnProduct(base, at, n)
  B = base
  -- idem_day: the day whose bucket already has its expiry set, so that EXPIREAT runs once a day, not per hold
  local p = rcall('HMGET', KEYS[B + 1], 'available', 'starts_at', 'ends_at', 'limit', 'price', 'held', 'seq', 'idem_day', 'admission', 'hold_events', 'hold_ttl')
  closed = nil
  if not p[1] then closed = '-1'
  else
    local sale = saleState(p[2], p[3], now)
    if sale == 'before' then closed = '-3' elseif sale == 'after' then closed = '-4' end
  end
  limit = p[4] and p[4] ~= '' and tonumber(p[4])
  available, held, seq = tonumber(p[1]), tonumber(p[6]), tonumber(p[7])
  local idemDay = p[8]
  -- a waiting room or raffle admits only ticket holders; q_unused counts admitted tickets without a hold yet
  gated = p[9] == 'queue' or p[9] == 'raffle'
  unused = gated and tonumber(rcall('HGET', KEYS[B + 1], 'q_unused')) or 0
  qn, hn, kn, lookFrom = 0, 0, 0, nil
  -- (a single request cannot meet its own key)
  if n > 1 then newHolds, newKeys = {}, {} else newHolds, newKeys = nil, nil end
  recordTail = '|' .. nowStr .. '|' .. expiresStr .. '|' .. (p[5] or '') .. '|'

  local noticesAt = #replies + 1
  replies[noticesAt] = 0
  for i = at + 1, at + 3 * n, 3 do
    replies[#replies + 1] = place(ARGV[i], ARGV[i + 1], ARGV[i + 2])
  end

  if qn > 0 then
    rcall('HSET', KEYS[B + 3], unpack(holdFields, 1, hn))
    if p[11] ~= ttl then noteTtl(KEYS[B + 1], KEYS[B + 4], 'hold_ttl', ttl, p[11], now, holdDueIn(KEYS[B + 3])) end
    rcall('RPUSH', KEYS[B + 4], unpack(queued, 1, qn))
    if kn > 0 then
      rcall('HSET', KEYS[B + writeSlot], unpack(keyFields, 1, kn))
      if idemDay ~= writeDayStr then
        -- the bucket outlives the end of the next day: every record in it is kept at least 24 h (counted
        -- from Redis's day: a caller days behind writes to a bucket of a day already over)
        rcall('EXPIREAT', KEYS[B + writeSlot], int(math.floor((math.max(writeDay, day) + 2) * bucketMs / 1000)))
        idemDay = writeDayStr
      end
    end
    rcall('HSET', KEYS[B + 1], 'available', int(available), 'held', int(held), 'seq', int(seq), 'idem_day', idemDay or '')
    if gated then rcall('HSET', KEYS[B + 1], 'q_unused', int(unused)) end
    if p[10] == '1' then
      local N = { notices = KEYS[B + 10] }
      for j = 1, hn, 2 do notice(N, 'hold.created', now, holdFields[j], holdFields[j + 1]) end
      replies[noticesAt] = qn
    end
  end
end

local at = 3
for base = 0, #KEYS - 1, 10 do
  local n = tonumber(ARGV[at + 1])
  placeOnProduct(base, at + 1, n)
  at = at + 1 + 3 * n
end
return replies
