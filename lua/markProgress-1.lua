--[[
  Moves a product's progress mark one on and returns it with the product's seq, for Postgres to record
  (docs/decisions/015): a Redis that later comes back with a lower mark is older than what Postgres
  recorded. A product without a record is left alone (no partial record is created).

  Input:
    KEYS[1] product hash
  Output:
    {1, mark, seq}   {-1} no record
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return {-1} end
return {1, redis.call('HINCRBY', KEYS[1], 'mark', 1), tonumber(redis.call('HGET', KEYS[1], 'seq'))}
