-- Walks a FIFO list of seqs whose records fall due in list order (one TTL for all), oldest first.
-- visit(seq) answers 'later' (the head is not due: stop), 'gone' (no record: drop the entry) or 'done'
-- (handled: the entry moves to the ended list as "<kind><seq>:<now>"). At most `limit` entries per call;
-- returns 1 when the limit stopped the walk (more may be due), else 0.
local function drainDue(queueKey, endedKey, kind, limit, now, visit)
  for _ = 1, limit do
    local seq = redis.call('LINDEX', queueKey, 0)
    if not seq then return 0 end
    local outcome = visit(seq)
    if outcome == 'later' then return 0 end
    if outcome == 'done' then redis.call('RPUSH', endedKey, kind .. seq .. ':' .. now) end
    redis.call('LPOP', queueKey)
  end
  return 1
end
