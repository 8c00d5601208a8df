--[[
  A customer joins a product's waiting room (admission "queue") or enters its raffle ("raffle"): one
  ticket per customer, joining again answers the same ticket. Before the sale opens a joiner goes into
  the pre-queue with a random score (the order is drawn, so joining early buys nothing); after it opens,
  a joiner takes the next position and the line admits whoever it can (see line.lua). A raffle takes
  entries until raffle_closes_at. Redis TIME is the clock.

  Input:
    KEYS[1] product hash  KEYS[2] tickets hash  KEYS[3] pre-queue zset  KEYS[4] line hash  KEYS[5] admitted list  KEYS[6] notices
    ARGV[1] user id   ARGV[2] the joiner's random pre-queue score (used only before the opening)
  Output:
    {1 joined now | 2 had joined before, ticket record, position (0 = in the pre-queue), now ms,
     next position to admit, sold out (1/0), admission rate per second (string), raffle drawn (1/0),
     wake ms: when the product's next step is due (the line's opening, the raffle's close; 0 = none)}
    {-1}   product not found        {-40}  the product sells without a waiting room or raffle
    {-41}  the raffle is closed
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "tickets"
-- @include "line"
local K = { product = KEYS[1], tickets = KEYS[2], preQueue = KEYS[3], line = KEYS[4], admitted = KEYS[5], notices = KEYS[6] }
local user = ARGV[1]
local now = nowMs()
local Q = loadLine(K.product)
if not Q then return {-1} end

local rec = rcall('HGET', K.tickets, user)
local code = rec and 2 or 1

if Q.admission == 'raffle' then
  local r = rcall('HMGET', K.product, 'raffle_closes_at', 'r_drawn')
  if not rec then
    if not r[1] or r[1] == '' or now >= tonumber(r[1]) then return {-41} end
    rec = formatTicket({ status = 'e', position = 0, untilMs = 0 })
    rcall('HSET', K.tickets, user, rec)
  end
  local drawn = r[2] and r[2] ~= ''
  return {code, rec, 0, now, 0, 0, '0', drawn and 1 or 0, drawn and 0 or tonumber(r[1])}
end
if Q.admission ~= 'queue' then return {-40} end

local open = openLine(K, Q, now)
if not rec then
  if open then
    Q.tail = Q.tail + 1
    rcall('HSET', K.line, int(Q.tail), user)
    rcall('HSET', K.tickets, user, formatTicket({ status = 'w', position = Q.tail, untilMs = 0 }))
  else
    rcall('ZADD', K.preQueue, 'NX', ARGV[2], user)
    rcall('HSET', K.tickets, user, formatTicket({ status = 'w', position = 0, untilMs = 0 }))
  end
end
if open then
  tickLine(K, Q, now, 100)
  saveLine(K.product, Q)
end
rec = rcall('HGET', K.tickets, user)
return {code, rec, positionOf(K, Q, user, parseTicket(rec)), now, Q.next, Q.soldOut and 1 or 0, string.format('%.4f', Q.rate), 0,
  open and 0 or tonumber(Q.starts)}
