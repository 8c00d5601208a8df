--[[
  Releases a hold: its stock comes back at once. Repeating a release is harmless. A hold whose payment
  already succeeded (the webhook came before the order) cannot be released: it becomes a paid order.

  Input:
    KEYS[1] product  KEYS[2] used  KEYS[3] holds  KEYS[4] orders  KEYS[5] deferred  KEYS[6] events
    KEYS[7] order outbox  KEYS[8] event outbox  KEYS[9] ended list  KEYS[10] notices
    ARGV[1] hold seq   ARGV[2] owner user id ("" = any owner, for operators)
  Output:
    {1, record, notices written}   released now             {2, record}   was already released
    {-10}         no such hold for this user
    {-11, record} hold was converted into an order (or just became one: it was paid)
    {-12, record} hold expired (ended here if its time had passed and no job had ended it yet)
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
-- @include "notices"
-- @include "orders"
local K = { product = KEYS[1], used = KEYS[2], holds = KEYS[3], orders = KEYS[4], deferred = KEYS[5],
  events = KEYS[6], outbox = KEYS[7], eventOutbox = KEYS[8], ended = KEYS[9], notices = KEYS[10] }
local seq = ARGV[1]
local rec = rcall('HGET', K.holds, seq)
if not rec then return {-10} end
local h = parseHold(rec)
if ARGV[2] ~= '' and h.user ~= ARGV[2] then return {-10} end

if h.status == 'r' then return {2, rec} end
if h.status == 'c' then return {-11, rec} end
if h.status == 'e' then return {-12, rec} end
local now = nowMs()
local ended = endActiveHold(K, seq, h, h.expires <= now and 'e' or 'r', now)
if ended == 'converted' then return {-11, formatHold(h)} end
if ended == 'e' then return {-12, formatHold(h)} end
return {1, formatHold(h), NOTICES.count}
