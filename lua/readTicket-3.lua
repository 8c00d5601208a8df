--[[
  Reads a customer's waiting-room or raffle ticket with what its view needs (read only).

  Input:
    KEYS[1] product hash  KEYS[2] tickets hash  KEYS[3] pre-queue zset
    ARGV[1] user id
  Output:
    {1, ticket record, position (0 = in the pre-queue), now ms, next position to admit, sold out (1/0),
     admission rate per second (string), raffle drawn (1/0), 0, sale end ms (0 = none)}
    {-1}   product not found     {-43}  the customer has no ticket
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "tickets"
-- @include "line"
local K = { product = KEYS[1], tickets = KEYS[2], preQueue = KEYS[3] }
local user = ARGV[1]
local Q = loadLine(K.product)
if not Q then return {-1} end
local rec = rcall('HGET', K.tickets, user)
if not rec then return {-43} end
local drawn = rcall('HGET', K.product, 'r_drawn')
return {1, rec, positionOf(K, Q, user, parseTicket(rec)), nowMs(), Q.next, Q.soldOut and 1 or 0,
  string.format('%.4f', Q.rate), (drawn and drawn ~= '') and 1 or 0, 0, tonumber(Q.ends) or 0}
