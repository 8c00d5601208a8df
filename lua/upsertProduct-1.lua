--[[
  Creates or updates a product's Redis record. Never resurrects held, pending or sold stock:
  an existing record keeps its counters and only `available` moves with a change of `total`.

  Input:
    KEYS[1] product hash
    ARGV[1] name          ARGV[2] unit price (minor units)   ARGV[3] currency
    ARGV[4] total stock   ARGV[5] sale start ms ("" = open)  ARGV[6] sale end ms ("" = none)
    ARGV[7] per-user limit ("" = none)
    ARGV[8] pending units known to Postgres  ARGV[9] sold units known to Postgres
    ARGV[10] the seq new ids start above: beyond every id Postgres knows was handed out
    (ARGV[8..10] are used only when the record has no counters yet)
    ARGV[11] admission: open | queue | raffle (default open)   ARGV[12] admission window ms
    ARGV[13] admission headroom (tickets)   ARGV[14] raffle close ms ("" = none)
    ARGV[15] sha256 of the raffle's seed ("" = none)
    ARGV[16] "1" while hold events are subscribed to (lua/includes/notices.lua), else ""
  Output:
    {1, available}            created or updated
    {-20, committed}          total would fall below held + pending + sold
]]
local rcall = redis.call
local key = KEYS[1]
local total = tonumber(ARGV[4])

-- the settings, those the hold script reads first: in a small hash (a listpack) Redis finds a field by
-- walking the fields from the first, and a new record's fields keep the order written here
local function settings()
  return {'starts_at', ARGV[5], 'ends_at', ARGV[6], 'limit', ARGV[7], 'price', ARGV[2],
    'admission', ARGV[11] or 'open', 'hold_events', ARGV[16] or '', 'name', ARGV[1], 'currency', ARGV[3],
    'total', total, 'admission_window_ms', ARGV[12] or 120000, 'admission_headroom', ARGV[13] or 0,
    'raffle_closes_at', ARGV[14] or '', 'raffle_commit', ARGV[15] or ''}
end

-- a record without counters is new, or one a rebuild cleared them on: it keeps its waiting room's and
-- raffle's fields, which index lists the rebuild keeps
if rcall('HEXISTS', key, 'seq') == 1 then
  local c = rcall('HMGET', key, 'held', 'pending', 'sold')
  local committed = tonumber(c[1]) + tonumber(c[2]) + tonumber(c[3])
  if total < committed then return {-20, committed} end
  rcall('HSET', key, unpack(settings()))
  rcall('HSET', key, 'available', total - committed)
  return {1, total - committed}
end

local pending, sold = tonumber(ARGV[8]), tonumber(ARGV[9])
if total < pending + sold then return {-20, pending + sold} end
-- the counters the hold script reads and writes first, then the settings (see settings())
local fields = {'available', total - pending - sold, 'held', 0, 'seq', ARGV[10], 'idem_day', '', 'hold_ttl', ''}
for _, v in ipairs(settings()) do fields[#fields + 1] = v end
fields[#fields + 1], fields[#fields + 2], fields[#fields + 3], fields[#fields + 4] = 'pending', pending, 'sold', sold
rcall('HSET', key, unpack(fields))
return {1, total - pending - sold}
