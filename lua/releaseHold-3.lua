--[[
  Releases a hold: its stock comes back at once. Repeating a release is harmless.

  Input:
    KEYS[1] product hash   KEYS[2] used hash   KEYS[3] holds hash
    ARGV[1] hold seq       ARGV[2] owner user id ("" = any owner, for operators)
  Output:
    {1, record}   released now             {2, record}   was already released
    {-10}         no such hold for this user
    {-11, record} hold was converted into an order
    {-12, record} hold expired (ended here if its time had passed and no job had ended it yet)
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
local seq = ARGV[1]
local rec = rcall('HGET', KEYS[3], seq)
if not rec then return {-10} end
local h = parseHold(rec)
if ARGV[2] ~= '' and h.user ~= ARGV[2] then return {-10} end

if h.status == 'r' then return {2, rec} end
if h.status == 'c' then return {-11, rec} end
if h.status == 'e' then return {-12, rec} end
if h.expires <= nowMs() then
  return {-12, endHold(KEYS[1], KEYS[2], KEYS[3], seq, h, 'e')}
end
return {1, endHold(KEYS[1], KEYS[2], KEYS[3], seq, h, 'r')}
