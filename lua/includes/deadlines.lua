-- Entries a walk looks at past one not due yet, while a shrunk TTL left the queue out of due order (ttls.lua).
local LOOK_PAST = 1000

-- Walks a FIFO list of seqs whose records fall due in list order, oldest first.
-- visit(seq, prefetched) answers 'later' (the entry is not due: stop) with the time the entry was placed,
-- 'gone' (no record: drop the entry) or 'done' (handled: the entry moves to the ended list as
-- "<kind><seq>:<now>"). At most `limit` entries leave per call; returns 1 when the limit stopped the
-- walk (more may be due), else 0.
-- While a marker heads the list (ttls.lua: a TTL shrank), an entry not due yet that was placed before
-- the shrink does not stop the walk: it goes on, up to LOOK_PAST entries, and what it handles there
-- stays in the list (it is moved along once the walk reaches it), until one placed since is not due.
-- The list is read in growing slices (8, 64, 512 ... entries), so a walk that stops soon reads a few
-- entries, and a long one a few commands rather than one per entry; `prefetch(seqs)`, when given, reads
-- what visit needs for a whole slice at once and visit gets the seq's part. The handled entries leave
-- the list with one LTRIM and join the ended list with one RPUSH.
local function drainDue(queueKey, endedKey, kind, limit, now, visit, prefetch)
  local taken, ended, size, stopped = 0, {}, 8, false
  -- a marker heading the list leaves with the walk's entries, counted apart from them (skip)
  local skip, marker, shrunkFrom = 0, nil, nil
  -- past an entry not due yet (only while shrunkFrom is set): entries looked at, none taken
  local looking, looked = false, 0
  while not stopped and taken < limit and looked < LOOK_PAST do
    local first = skip + taken + looked
    local seqs = redis.call('LRANGE', queueKey, first, first + math.min(size, looking and LOOK_PAST - looked or limit - taken) - 1)
    if #seqs == 0 then break end
    local fetched = prefetch and prefetch(seqs) or {}
    for i, seq in ipairs(seqs) do
      local from, untilMs
      if first == 0 and i == 1 then from, untilMs = parseShrink(seq) end
      if from then
        skip = 1
        if now < untilMs then marker, shrunkFrom = seq, from end
      else
        local outcome, placed = visit(seq, fetched[i])
        if outcome == 'later' and not (shrunkFrom and placed < shrunkFrom) then stopped = true break end
        if outcome == 'later' then looking = true end
        if looking then
          looked = looked + 1
        else
          if outcome == 'done' then ended[#ended + 1] = kind .. seq .. ':' .. now end
          taken = taken + 1
        end
      end
    end
    size = size * 8
  end
  if #ended > 0 then redis.call('RPUSH', endedKey, unpack(ended)) end
  if skip + taken > 0 then redis.call('LTRIM', queueKey, skip + taken, -1) end
  if marker then redis.call('LPUSH', queueKey, marker) end
  return (taken == limit and not looking) and 1 or 0
end
