-- Walks a deadline queue (a list of seqs, placed oldest first), handing what is due to `visit`, oldest
-- first. visit(seq, prefetched) answers 'later' (the entry is not due: the rest of its run is not either),
-- 'gone' (no record: the entry is dropped) or 'done' (handled: the entry moves to the ended list as
-- "<kind><seq>:<now>"). At most `limit` entries are handled per call; returns 1 when the limit stopped the
-- walk (more may be due), else 0.
-- A queue whose TTL shrank is runs, each in due order, behind a marker (ttls.lua): each run's head is
-- walked, and the runs all handled at the head of the queue leave it.
-- A run is read in growing slices (8, 64, 512 ... entries), so a walk that stops soon reads a few
-- entries, and a long one a few commands rather than one per entry; `prefetch(seqs)`, when given, reads
-- what visit needs for a whole slice at once and visit gets the seq's part. The handled entries of the
-- queue's head leave with one LTRIM and join the ended list with one RPUSH.
local function drainDue(queueKey, endedKey, kind, limit, now, visit, prefetch)
  local ended, handled = {}, 0

  -- Walks entries from list index `from` (up to `to`, or the end) until one is not due or the limit is
  -- reached; how many it handled. From the queue's head (`head`), a marker stops it: nil and the runs.
  local function walk(from, to, head)
    local n, size = 0, 8
    while handled < limit do
      local first = from + n
      local last = first + math.min(size, limit - handled) - 1
      if to and last > to then last = to end
      if last < first then break end
      local seqs = redis.call('LRANGE', queueKey, first, last)
      if #seqs == 0 then break end
      if head and first == 0 then
        local runs = parseRuns(seqs[1])
        if runs then return nil, runs end
      end
      local fetched = prefetch and prefetch(seqs) or {}
      for i, seq in ipairs(seqs) do
        local outcome = visit(seq, fetched[i])
        if outcome == 'later' then return n end
        if outcome == 'done' then ended[#ended + 1] = kind .. seq .. ':' .. now end
        n, handled = n + 1, handled + 1
      end
      size = size * 8
    end
    return n
  end

  local trim, runs = walk(0, nil, true)
  if runs then
    runs[#runs].len = lastRunLength(queueKey, runs)
    local at = 1
    for _, r in ipairs(runs) do
      r.done = r.done + walk(at + r.done, at + r.len - 1)
      at = at + r.len
    end
    -- the marker, the runs handled whole from the head, and the handled head of the first run left
    trim = 1
    while #runs > 1 and runs[1].done == runs[1].len do
      trim = trim + runs[1].len
      table.remove(runs, 1)
    end
    trim, runs[1].len, runs[1].done = trim + runs[1].done, runs[1].len - runs[1].done, 0
  end
  if #ended > 0 then redis.call('RPUSH', endedKey, unpack(ended)) end
  if trim > 0 then redis.call('LTRIM', queueKey, trim, -1) end
  if runs and #runs > 1 then redis.call('LPUSH', queueKey, formatRuns(runs)) end
  return handled == limit and 1 or 0
end
