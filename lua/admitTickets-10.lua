--[[
  One admission step of a product, run every second while its line or waitlist has work, and by the
  sweep. A waiting room ("queue"): while the sale is on, opens the line, ends admission windows that
  passed unused, marks the line sold out when nothing can be sold any more, admits the next tickets; while
  it is not (before the start, also when a line that opened saw its sale moved into the future, and after
  the end), gives admitted tickets without a hold their places back (line.lua). A raffle: says when it is
  due to be drawn (closed, and the sale on); once drawn, while the sale is on, gives units that came back
  (a released or expired hold, a failed payment) to the next entrants in draw order (raffle.lua). Other
  products: nothing.

  Input:
    KEYS[1] product  KEYS[2] tickets  KEYS[3] pre-queue  KEYS[4] line  KEYS[5] admitted list  KEYS[6] draw list
    KEYS[7] used  KEYS[8] holds  KEYS[9] hold queue  KEYS[10] notices
    ARGV[1] hold ttl ms   ARGV[2] most tickets to look at per walk
  Output:
    {1, mode (0 open, 1 queue, 2 raffle), tickets admitted or entrants that won now, again (1 = more to do
     in a second), draw due (1 = a raffle closed and not drawn, and the sale on), expiry ms of the holds
     won now (0 = none), notices waiting to be drained (any step of the line, a join's too, may have written
     some), wake ms (when the next step is due if nothing else happens: the sale's start, a raffle's draw;
     0 = none)}
    {-1}   product not found
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "tickets"
-- @include "line"
-- @include "ttls"
-- @include "raffle"
local K = { product = KEYS[1], tickets = KEYS[2], preQueue = KEYS[3], line = KEYS[4], admitted = KEYS[5],
  draw = KEYS[6], used = KEYS[7], holds = KEYS[8], holdQueue = KEYS[9], notices = KEYS[10] }
local now = nowMs()
local limit = tonumber(ARGV[2])
local Q = loadLine(K.product)
if not Q then return {-1} end

if Q.admission == 'queue' then
  if not openLine(K, Q, now) then
    if Q.pre == '' then return {1, 1, 0, 0, 0, 0, 0, startsLater(Q, now)} end
    local more = closeLine(K, Q, limit)
    saveLine(K.product, Q)
    return {1, 1, 0, more and 1 or 0, 0, 0, 0, startsLater(Q, now)}
  end
  local admitted = tickLine(K, Q, now, limit)
  saveLine(K.product, Q)
  local again = (Q.next <= Q.tail and not Q.soldOut) or Q.unused > 0 or rcall('LLEN', K.admitted) > 0
  return {1, 1, admitted, again and 1 or 0, 0, 0, rcall('ZCARD', K.notices), 0}
end

if Q.admission == 'raffle' then
  local r = rcall('HMGET', K.product, 'raffle_closes_at', 'r_drawn')
  local sale = saleState(Q.starts, Q.ends, now)
  if not r[2] or r[2] == '' then
    local dueAt = drawDueAt(r[1], Q.starts)
    local due = r[1] and r[1] ~= '' and now >= dueAt and sale == 'on'
    return {1, 2, 0, 0, due and 1 or 0, 0, 0, now < dueAt and dueAt or 0}
  end
  if sale ~= 'on' then return {1, 2, 0, 0, 0, 0, 0, startsLater(Q, now)} end
  local awarded, expires, waitlist = awardWaitlist(K, now, tonumber(ARGV[1]), limit)
  -- units can still come back while any are held or pending payment
  local c = rcall('HMGET', K.product, 'available', 'held', 'pending')
  local again = waitlist and (tonumber(c[1]) + tonumber(c[2]) + tonumber(c[3]) > 0)
  return {1, 2, awarded, again and 1 or 0, 0, expires, rcall('ZCARD', K.notices), 0}
end
return {1, 0, 0, 0, 0, 0, 0, 0}
