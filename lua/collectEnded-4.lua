--[[
  Drops ended hold and order records once their retention has passed, oldest first. An order waits
  while its latest state is not yet in Postgres (still in the outbox); a converted hold goes with its order.

  Input:
    KEYS[1] ended list ("<h|o><seq>:<ended ms>")   KEYS[2] holds hash   KEYS[3] orders hash   KEYS[4] outbox set
    ARGV[1] retention ms   ARGV[2] most entries to drop in this call
  Output:
    {dropped}
]]
local rcall = redis.call
-- @include "clock"
local cutoff = nowMs() - tonumber(ARGV[1])
local dropped = 0

while dropped < tonumber(ARGV[2]) do
  local entry = rcall('LINDEX', KEYS[1], 0)
  if not entry then break end
  local kind, seq, endedAt = string.match(entry, '^(%a)(%d+):(%d+)$')
  if tonumber(endedAt) > cutoff then break end
  if kind == 'o' then
    if rcall('SISMEMBER', KEYS[4], seq) == 1 then break end
    rcall('HDEL', KEYS[3], seq)
    rcall('HDEL', KEYS[2], seq)
  else
    local rec = rcall('HGET', KEYS[2], seq)
    if rec and string.sub(rec, 1, 1) ~= 'c' then rcall('HDEL', KEYS[2], seq) end
  end
  rcall('LPOP', KEYS[1])
  dropped = dropped + 1
end
return {dropped}
