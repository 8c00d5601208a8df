-- Walks a FIFO list of seqs whose records fall due in list order (one TTL for all), oldest first.
-- visit(seq, prefetched) answers 'later' (the head is not due: stop), 'gone' (no record: drop the entry)
-- or 'done' (handled: the entry moves to the ended list as "<kind><seq>:<now>"). At most `limit` entries
-- per call; returns 1 when the limit stopped the walk (more may be due), else 0.
-- The list is read in growing slices (8, 64, 512 ... entries), so a walk that stops soon reads a few
-- entries, and a long one a few commands rather than one per entry; `prefetch(seqs)`, when given, reads
-- what visit needs for a whole slice at once and visit gets the seq's part. The handled entries leave
-- the list with one LTRIM and join the ended list with one RPUSH.
local function drainDue(queueKey, endedKey, kind, limit, now, visit, prefetch)
  local taken, ended, size, stopped = 0, {}, 8, false
  while not stopped and taken < limit do
    local seqs = redis.call('LRANGE', queueKey, taken, taken + math.min(size, limit - taken) - 1)
    if #seqs == 0 then break end
    local fetched = prefetch and prefetch(seqs) or {}
    for i, seq in ipairs(seqs) do
      local outcome = visit(seq, fetched[i])
      if outcome == 'later' then stopped = true break end
      if outcome == 'done' then ended[#ended + 1] = kind .. seq .. ':' .. now end
      taken = taken + 1
    end
    size = size * 8
  end
  if #ended > 0 then redis.call('RPUSH', endedKey, unpack(ended)) end
  if taken > 0 then redis.call('LTRIM', queueKey, taken, -1) end
  return taken == limit and 1 or 0
end
