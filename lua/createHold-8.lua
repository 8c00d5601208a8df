--[[
  Places a stock hold: sale window, idempotency key, per-user limit and stock, checked and applied as
  one atomic step on the product's slot. Redis TIME is the clock.

  Input:
    KEYS[1] product hash      KEYS[2] used hash (user -> units)   KEYS[3] holds hash (seq -> record)
    KEYS[4] hold queue list   KEYS[5..8] idempotency buckets for the days ARGV[6] - 2 .. ARGV[6] + 1
    ARGV[1] user id   ARGV[2] qty   ARGV[3] hold ttl ms   ARGV[4] idempotency key ("" = none)
    ARGV[5] idempotency bucket ms   ARGV[6] the caller's day number (bucket of KEYS[6])
  Output:
    {1, seq, created ms, expires ms}   hold placed
    {2, seq, created ms, expires ms}   replay of the key's earlier hold (same qty)
    {-1}                               product not found
    {-2, available}                    insufficient stock
    {-3} sale not started              {-4} sale ended
    {-5, limit, used}                  per-user limit exceeded
    {-6}                               idempotency key reused with another body
    {-7}                               the key's hold record is gone (retention passed)
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
local user, qty, idemKey = ARGV[1], tonumber(ARGV[2]), ARGV[4]
local now = nowMs()

-- the buckets of Redis's day and the day before, among the four the caller passed (KEYS[7] = its day):
-- a caller whose clock is a little ahead of or behind Redis's still finds both
local bucketMs, callerDay = tonumber(ARGV[5]), tonumber(ARGV[6])
local day = math.floor(now / bucketMs)
local slot = day - callerDay + 7

local idemField
if idemKey ~= '' then
  idemField = #user .. ':' .. user .. idemKey
  for i = math.max(5, slot - 1), math.min(8, slot) do
    local found = rcall('HGET', KEYS[i], idemField)
    if found then
      local fqty, fseq = string.match(found, '^(%d+):(%d+)$')
      if tonumber(fqty) ~= qty then return {-6} end
      local rec = rcall('HGET', KEYS[3], fseq)
      if not rec then return {-7} end
      local h = parseHold(rec)
      return {2, fseq, h.created, h.expires}
    end
  end
end

-- idem_day: the day whose bucket already has its expiry set, so that EXPIREAT runs once a day, not per hold
local p = rcall('HMGET', KEYS[1], 'available', 'starts_at', 'ends_at', 'limit', 'price', 'held', 'seq', 'idem_day')
if not p[1] then return {-1} end
if p[2] ~= '' and now < tonumber(p[2]) then return {-3} end
if p[3] ~= '' and now >= tonumber(p[3]) then return {-4} end

-- the user's units are counted whether or not there is a limit (one may be set later), read only if there is
if p[4] ~= '' then
  local used = tonumber(rcall('HGET', KEYS[2], user) or '0')
  if used + qty > tonumber(p[4]) then return {-5, tonumber(p[4]), used} end
end

local available = tonumber(p[1])
if available < qty then return {-2, available} end

local seqNum = tonumber(p[7]) + 1
local seq = int(seqNum)
local expires = now + tonumber(ARGV[3])
rcall('HINCRBY', KEYS[2], user, ARGV[2])
rcall('HSET', KEYS[3], seq, formatHold({ status = 'a', qty = qty, created = now, expires = expires, price = p[5], user = user }))
rcall('RPUSH', KEYS[4], seq)

local product = { 'HSET', KEYS[1], 'available', int(available - qty), 'held', int(tonumber(p[6]) + qty), 'seq', seq }
if idemField then
  if slot < 5 or slot > 8 then slot, day = 7, callerDay end
  rcall('HSET', KEYS[slot], idemField, ARGV[2] .. ':' .. seq)
  local dayStr = int(day)
  if p[8] ~= dayStr then
    -- the bucket outlives the end of the next day: every record in it is kept at least 24 h
    rcall('EXPIREAT', KEYS[slot], int(math.floor((day + 2) * bucketMs / 1000)))
    product[#product + 1], product[#product + 2] = 'idem_day', dayStr
  end
end
rcall(unpack(product))

return {1, seqNum, now, expires}
