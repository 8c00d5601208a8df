--[[
  A customer joins a product's waiting room (admission "queue") or enters its raffle ("raffle"): one
  ticket per customer, joining again answers the same ticket. While the sale is not on, a joiner goes into
  the pre-queue with a random score (the order is drawn when the line opens, so joining early buys
  nothing; also while a line that opened is closed again by a postponed sale); while it is on, a joiner
  takes the next position and the line admits whoever it can (see line.lua). A raffle takes entries until
  raffle_closes_at. Nobody joins once the sale has ended. Redis TIME is the clock.

  Input:
    KEYS[1] product hash  KEYS[2] tickets hash  KEYS[3] pre-queue zset  KEYS[4] line hash  KEYS[5] admitted list  KEYS[6] notices
    ARGV[1] user id   ARGV[2] the joiner's random pre-queue score, below 2^48 (used only while the line is closed)
  Output:
    {1 joined now | 2 had joined before, ticket record, position (0 = in the pre-queue), now ms,
     next position to admit, sold out (1/0), admission rate per second (string), raffle drawn (1/0),
     wake ms: when the product's next step is due (the line's opening, the raffle's draw; 0 = none),
     sale end ms (0 = none)}
    {-1}   product not found        {-40}  the product sells without a waiting room or raffle
    {-41}  the raffle is closed (or drawn)     {-4}   the sale has ended (no ticket is given)
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "tickets"
-- @include "line"
-- @include "raffle"
local K = { product = KEYS[1], tickets = KEYS[2], preQueue = KEYS[3], line = KEYS[4], admitted = KEYS[5], notices = KEYS[6] }
local user = ARGV[1]
local now = nowMs()
local Q = loadLine(K.product)
if not Q then return {-1} end

local rec = rcall('HGET', K.tickets, user)
local code = rec and 2 or 1
local ends = tonumber(Q.ends) or 0
if Q.admission ~= 'raffle' and Q.admission ~= 'queue' then return {-40} end
if not rec and saleState(Q.starts, Q.ends, now) == 'after' then return {-4} end

if Q.admission == 'raffle' then
  local r = rcall('HMGET', K.product, 'raffle_closes_at', 'r_drawn')
  if not rec then
    -- (a drawn raffle is closed for good, even if its close is moved out again: the draw's entrants are final)
    if not r[1] or r[1] == '' or now >= tonumber(r[1]) or (r[2] and r[2] ~= '') then return {-41} end
    rec = formatTicket({ status = 'e', position = 0, untilMs = 0 })
    rcall('HSET', K.tickets, user, rec)
  end
  local drawn = r[2] and r[2] ~= ''
  return {code, rec, 0, now, 0, 0, '0', drawn and 1 or 0, drawn and 0 or drawDueAt(r[1], Q.starts), ends}
end

local open = openLine(K, Q, now)
if not rec then
  if open then
    Q.tail = Q.tail + 1
    rcall('HSET', K.line, int(Q.tail), user)
    rcall('HSET', K.tickets, user, formatTicket({ status = 'w', position = Q.tail, untilMs = 0 }))
  else
    joinClosedLine(K, Q, user, ARGV[2])
    rcall('HSET', K.tickets, user, formatTicket({ status = 'w', position = 0, untilMs = 0 }))
  end
end
if open then
  tickLine(K, Q, now, 100)
  saveLine(K.product, Q)
end
rec = rcall('HGET', K.tickets, user)
return {code, rec, positionOf(K, Q, user, parseTicket(rec)), now, Q.next, Q.soldOut and 1 or 0, string.format('%.4f', Q.rate), 0,
  startsLater(Q, now), ends}
