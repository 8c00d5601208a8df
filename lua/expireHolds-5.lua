--[[
  Expires every overdue hold of a product, oldest first. Run by the per-second expiry jobs and by the
  sweep; a hold that was released or converted meanwhile is only moved along, so stock returns once.

  Input:
    KEYS[1] product hash   KEYS[2] used hash   KEYS[3] holds hash   KEYS[4] hold queue   KEYS[5] ended list
    ARGV[1] most holds to look at in this call
  Output:
    {expired, more}   holds expired now; more = 1 when the batch limit stopped the scan
]]
local rcall = redis.call
-- @include "clock"
-- @include "holds"
local now = nowMs()
local limit = tonumber(ARGV[1])
local expired, seen = 0, 0

while seen < limit do
  local seq = rcall('LINDEX', KEYS[4], 0)
  if not seq then return {expired, 0} end
  local rec = rcall('HGET', KEYS[3], seq)
  if rec then
    local h = parseHold(rec)
    if h.expires > now then return {expired, 0} end
    if h.status == 'a' then
      endHold(KEYS[1], KEYS[2], KEYS[3], seq, h, 'e')
      expired = expired + 1
    end
    rcall('RPUSH', KEYS[5], 'h' .. seq .. ':' .. now)
  end
  rcall('LPOP', KEYS[4])
  seen = seen + 1
end
return {expired, 1}
