-- Redis TIME in milliseconds: the one clock for expiry and sale windows, whatever the app hosts' clocks say.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

-- Where a sale stands at `now`, from its window's fields ('' or nil = unbounded): 'before' its start, 'after'
-- its end, else 'on'.
local function saleState(starts, ends, now)
  if starts and starts ~= '' and now < tonumber(starts) then return 'before' end
  if ends and ends ~= '' and now >= tonumber(ends) then return 'after' end
  return 'on'
end
