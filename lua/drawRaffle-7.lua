--[[
  Draws a closed raffle: stores the entrants in draw order (computed by the caller from the entries and
  the seed, which anyone can recompute once the seed is published), reveals the seed, and gives the
  first entrants a hold of one unit each for the units available. Drawing again changes nothing. The
  caller's list has to hold exactly the entries Redis has: no entry can arrive after the close. The holds
  are the sale's, so the draw waits for the sale to start, and a sale that ended is not drawn.

  Input:
    KEYS[1] product  KEYS[2] tickets  KEYS[3] draw list  KEYS[4] used  KEYS[5] holds  KEYS[6] hold queue  KEYS[7] notices
    ARGV[1] hold ttl ms   ARGV[2] the seed (hex)   ARGV[3..] every entrant's user id, in draw order
  Output:
    {1, winners, expiry ms of their holds (0 = none)}   drawn now
    {2, winners of the draw, 0}                         drawn before
    {-1} product not found   {-40} not a raffle   {-42} the raffle has not closed yet
    {-3} the sale has not started   {-4} the sale has ended   {-44} the entrants given are not the raffle's entries
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "tickets"
-- @include "ttls"
-- @include "raffle"
local K = { product = KEYS[1], tickets = KEYS[2], draw = KEYS[3], used = KEYS[4], holds = KEYS[5], holdQueue = KEYS[6], notices = KEYS[7] }
local now = nowMs()
local r = rcall('HMGET', K.product, 'admission', 'raffle_closes_at', 'r_drawn', 'r_winners', 'available', 'starts_at', 'ends_at')
if not r[5] then return {-1} end
if r[1] ~= 'raffle' then return {-40} end
if not r[2] or r[2] == '' or now < tonumber(r[2]) then return {-42} end
if r[3] and r[3] ~= '' then return {2, tonumber(r[4]), 0} end
local sale = saleState(r[6], r[7], now)
if sale == 'before' then return {-3} end
if sale == 'after' then return {-4} end
if #ARGV - 2 ~= rcall('HLEN', K.tickets) then return {-44} end
for i = 3, #ARGV do
  if rcall('HEXISTS', K.tickets, ARGV[i]) == 0 then return {-44} end
end

for i = 3, #ARGV, 1000 do
  rcall('RPUSH', K.draw, unpack(ARGV, i, math.min(i + 999, #ARGV)))
end
rcall('HSET', K.product, 'r_drawn', int(now), 'r_seed', ARGV[2], 'r_next', 0)
local winners, expires = awardWaitlist(K, now, tonumber(ARGV[1]), #ARGV)
rcall('HSET', K.product, 'r_winners', int(winners))
-- everyone after the winners waits in draw order: not selected now, they may still win a unit that comes back
local nextIndex = tonumber(rcall('HGET', K.product, 'r_next'))
for i, user in ipairs(rcall('LRANGE', K.draw, nextIndex, -1)) do
  notice(K, 'raffle.not_selected', now, int(nextIndex + i), user)
end
return {1, winners, expires}
