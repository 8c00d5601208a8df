--[[
  Says whether the product's scripts write hold notices (lua/includes/notices.lua): only while an
  endpoint subscribes to hold events. A product Redis does not have is left alone (its load sets it).

  Input:
    KEYS[1] product hash
    ARGV[1] "1" on, "" off
  Output:
    {1, set}   set: 1 written, 0 no such product
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {1, 0} end
redis.call('HSET', KEYS[1], 'hold_events', ARGV[1])
return {1, 1}
