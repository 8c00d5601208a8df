--[[
  Drops ended records once their retention has passed, oldest first: holds, orders and payment events.
  An order or event waits while its latest state is not yet in Postgres (still in its outbox); a
  converted hold goes with its order.

  Input:
    KEYS[1] ended list ("<h|o><seq>:<ended ms>" or "e<event id>:<received ms>")
    KEYS[2] holds hash   KEYS[3] orders hash   KEYS[4] order outbox   KEYS[5] events hash   KEYS[6] event outbox
    ARGV[1] retention ms   ARGV[2] most entries to drop in this call
  Output:
    {1, dropped}
]]
local rcall = redis.call
-- @include "clock"
local cutoff = nowMs() - tonumber(ARGV[1])
local dropped = 0

while dropped < tonumber(ARGV[2]) do
  local entry = rcall('LINDEX', KEYS[1], 0)
  if not entry then break end
  local kind = string.sub(entry, 1, 1)
  local id, endedAt = string.match(string.sub(entry, 2), '^(.*):(%d+)$')
  if tonumber(endedAt) > cutoff then break end
  if kind == 'o' then
    if rcall('SISMEMBER', KEYS[4], id) == 1 then break end
    rcall('HDEL', KEYS[3], id)
    rcall('HDEL', KEYS[2], id)
  elseif kind == 'e' then
    if rcall('SISMEMBER', KEYS[6], id) == 1 then break end
    rcall('HDEL', KEYS[5], id)
  else
    local rec = rcall('HGET', KEYS[2], id)
    if rec and string.sub(rec, 1, 1) ~= 'c' then rcall('HDEL', KEYS[2], id) end
  end
  rcall('LPOP', KEYS[1])
  dropped = dropped + 1
end
return {1, dropped}
