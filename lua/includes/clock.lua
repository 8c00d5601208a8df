-- Redis TIME in milliseconds: the one clock for expiry and sale windows, whatever the app hosts' clocks say.
local function nowMs()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
