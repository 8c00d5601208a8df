--[[
  Takes a record out of its outbox once Postgres has its current state: only if the record is still
  exactly what was written (a newer change keeps it in the outbox for the next write). A record that
  is gone ("" was written) leaves the outbox too.

  Input:
    KEYS[1] records hash (orders or events)   KEYS[2] its outbox set
    ARGV[1] field (order seq or event id)     ARGV[2] the record as it was persisted, or ""
  Output:
    {1, removed}   removed: 1 taken out of the outbox, 0 kept
]]
local current = redis.call('HGET', KEYS[1], ARGV[1]) or ''
if current == ARGV[2] then
  return {1, redis.call('SREM', KEYS[2], ARGV[1])}
end
return {1, 0}
