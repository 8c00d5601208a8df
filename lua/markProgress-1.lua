--[[
  Moves a product's progress mark one on and returns it with the product's seq, for Postgres to record
  (docs/decisions/015): a Redis that later comes back with a lower mark is older than what Postgres
  recorded. A product without a record is left alone (no partial record is created), and so is a record
  whose mark is below the one Postgres has: moving it on would hide that this Redis is older.

  Input:
    KEYS[1] product hash
    ARGV[1] the mark Postgres has recorded for the product
  Output:
    {1, mark, seq}   {-1} no record   {-21, mark} the record's mark is below ARGV[1]
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
local mark = tonumber(redis.call('HGET', KEYS[1], 'mark') or '0')
if mark < tonumber(ARGV[1]) then return {-21, mark} end
return {1, redis.call('HINCRBY', KEYS[1], 'mark', 1), tonumber(redis.call('HGET', KEYS[1], 'seq'))}
