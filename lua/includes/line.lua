-- The waiting room's state lives on the product hash, next to the stock it admits to:
--   q_pre      customers who joined before the line opened ('' while it is not open)
--   q_tail     the last position handed out          q_next   the next position to admit
--   q_unused   admitted tickets without a hold yet   q_sold_out  '1' once nothing held or pending can return
--   q_admitted admissions so far                     q_rate   admissions per second, a moving average
--   q_rate_at / q_rate_mark                          when the rate was last sampled, and q_admitted then
--   q_later    customers who joined while the line, once open, was closed again (a sale moved into the
--              future), waiting in the pre-queue to be drawn at the reopening
--   q_draws    the later draws placed so far, "at:n;at:n..." (see drawnRank)
--   q_until_max the latest admission window's end handed out
--   q_mixed_until until then the admitted list may hold a shorter window behind a longer one (the window was
--              shortened while tickets were admitted), so the expiry walk looks behind an unexpired head too
-- The line admits only while the sale is on (its window, as the hold script checks it): before the start and
-- from the end on it is closed, also when it had opened and the sale was then moved (see closeLine).
local LINE_FIELDS = { 'admission', 'starts_at', 'admission_window_ms', 'admission_headroom', 'available', 'held',
  'pending', 'q_pre', 'q_tail', 'q_next', 'q_unused', 'q_sold_out', 'q_admitted', 'q_rate', 'q_rate_at', 'q_rate_mark',
  'ends_at', 'q_later', 'q_draws', 'q_until_max', 'q_mixed_until' }
-- How far back the admission rate looks (the time constant of its moving average).
local RATE_WINDOW_MS = 30000
-- A pre-queue score is a draw below 2^48, plus this times the draws before its own: each draw's members
-- rank after every earlier draw's, so the ranks that are positions never move. (Scores are exact up to 31
-- later draws; after that, two draws equal in their top bits would be ordered by user id.)
local DRAW_SPAN = 2 ^ 48

local function loadLine(productKey)
  local v = rcall('HMGET', productKey, unpack(LINE_FIELDS))
  if not v[5] then return nil end
  local function n(x) return tonumber(x) or 0 end
  local draws = {}
  for at, size in string.gmatch(v[19] or '', '(%d+):(%d+)') do draws[#draws + 1] = { at = tonumber(at), n = tonumber(size) } end
  return { admission = v[1] or 'open', starts = v[2] or '', window = n(v[3]), headroom = n(v[4]),
    available = n(v[5]), held = n(v[6]), pending = n(v[7]), pre = v[8] or '', tail = n(v[9]), next = n(v[10]),
    unused = n(v[11]), soldOut = v[12] == '1', admittedTotal = n(v[13]), rate = n(v[14]), rateAt = n(v[15]),
    rateMark = n(v[16]), ends = v[17] or '', later = n(v[18]), draws = draws, untilMax = n(v[20]), mixedUntil = n(v[21]) }
end

-- The sale's start while it is ahead (the line's next opening), else 0.
local function startsLater(Q, now)
  local starts = tonumber(Q.starts) or 0
  return now < starts and starts or 0
end

local function saveLine(productKey, Q)
  local draws = {}
  for i, d in ipairs(Q.draws) do draws[i] = int(d.at) .. ':' .. int(d.n) end
  rcall('HSET', productKey, 'q_pre', Q.pre, 'q_tail', int(Q.tail), 'q_next', int(Q.next), 'q_unused', int(Q.unused),
    'q_sold_out', Q.soldOut and '1' or '', 'q_admitted', int(Q.admittedTotal), 'q_rate', string.format('%.4f', Q.rate),
    'q_rate_at', int(Q.rateAt), 'q_rate_mark', int(Q.rateMark), 'q_later', int(Q.later), 'q_draws', table.concat(draws, ';'),
    'q_until_max', int(Q.untilMax), 'q_mixed_until', int(Q.mixedUntil))
end

-- Opens the line while the sale is on; true when open. The first opening freezes the pre-queue: its members
-- hold positions 1..n in the order of their random scores, and everyone after them queues in arrival order.
-- Those who joined while the line was closed again are drawn the same way at the reopening: they take the
-- next positions, behind every position given, in the order of their scores (a later draw: it stays in the
-- pre-queue, so the reopening costs the same however many joined meanwhile).
local function openLine(K, Q, now)
  if saleState(Q.starts, Q.ends, now) ~= 'on' then return false end
  if Q.pre == '' then
    local n = rcall('ZCARD', K.preQueue)
    Q.pre, Q.tail, Q.next = int(n), n, 1
  elseif Q.later > 0 then
    Q.draws[#Q.draws + 1] = { at = Q.tail, n = Q.later }
    Q.tail, Q.later = Q.tail + Q.later, 0
  end
  return true
end

-- A customer joins the line while it is closed: into the pre-queue with their random draw (below 2^48), to
-- be placed at the (re)opening.
local function joinClosedLine(K, Q, user, draw)
  if Q.pre == '' then
    rcall('ZADD', K.preQueue, 'NX', draw, user)
    return
  end
  rcall('ZADD', K.preQueue, 'NX', int((#Q.draws + 1) * DRAW_SPAN + tonumber(draw)), user)
  Q.later = Q.later + 1
  rcall('HSET', K.product, 'q_later', int(Q.later))
end

-- The pre-queue holds the draws in order: the first (ranks 0..q_pre-1, positions 1..q_pre), then each later
-- draw {at, n} (the next n ranks, positions at+1..at+n), then those waiting for the next one. The rank at a
-- position (nil: a position handed out on arrival), and the position at a rank (0: not drawn yet).
local function drawnRank(Q, position)
  local first = tonumber(Q.pre)
  if position <= first then return position - 1 end
  local rank = first
  for _, d in ipairs(Q.draws) do
    if position > d.at and position <= d.at + d.n then return rank + position - d.at - 1 end
    rank = rank + d.n
  end
end

local function drawnPosition(Q, rank)
  local first = tonumber(Q.pre)
  if rank < first then return rank + 1 end
  local from = first
  for _, d in ipairs(Q.draws) do
    if rank < from + d.n then return d.at + rank - from + 1 end
    from = from + d.n
  end
  return 0
end

-- A ticket's position: fixed on arrival while the line is open, for those who joined while it was closed
-- their rank in the pre-queue's draws (0 until they are drawn).
local function positionOf(K, Q, user, t)
  if t.position > 0 or Q.pre == '' then return t.position end
  return drawnPosition(Q, rcall('ZRANK', K.preQueue, user))
end

local function userAt(K, Q, position)
  local rank = drawnRank(Q, position)
  if rank then return rcall('ZRANGE', K.preQueue, rank, rank)[1] end
  return rcall('HGET', K.line, int(position))
end

-- One step of the open line: admission windows that passed unused end (x), the line is marked sold out
-- when nothing is left and nothing held or pending can come back, and waiting tickets are admitted in
-- position order while admitted-but-unused tickets stay within the units left (plus the headroom).
-- At most `limit` tickets are looked at in each of the two walks. Returns how many were admitted.
local function tickLine(K, Q, now, limit)
  for _ = 1, limit do
    local user = rcall('LINDEX', K.admitted, 0)
    if not user then break end
    local t = parseTicket(rcall('HGET', K.tickets, user))
    if t.status == 'a' then
      if t.untilMs > now then break end
      t.status = 'x'
      rcall('HSET', K.tickets, user, formatTicket(t))
      Q.unused = Q.unused - 1
    end
    rcall('LPOP', K.admitted)
  end
  -- a window shortened while tickets were admitted: a shorter window behind the head may have passed
  if now < Q.mixedUntil then
    for _, user in ipairs(rcall('LRANGE', K.admitted, 0, limit - 1)) do
      local t = parseTicket(rcall('HGET', K.tickets, user))
      if t.status == 'a' and t.untilMs <= now then
        t.status = 'x'
        rcall('HSET', K.tickets, user, formatTicket(t))
        Q.unused = Q.unused - 1
      end
    end
  end

  -- (a unit held or pending can come back: a line marked sold out before a restock is not sold out once it is held)
  Q.soldOut = Q.available == 0 and Q.held == 0 and Q.pending == 0

  -- the rate is sampled before this step's admissions, which count towards the next sample
  local dt = now - Q.rateAt
  if Q.rateAt == 0 then
    Q.rateAt, Q.rateMark = now, Q.admittedTotal
  elseif dt >= 1000 then
    local sample = (Q.admittedTotal - Q.rateMark) * 1000 / dt
    Q.rate = Q.rate + (1 - math.exp(-dt / RATE_WINDOW_MS)) * (sample - Q.rate)
    Q.rateAt, Q.rateMark = now, Q.admittedTotal
  end

  local admitted = 0
  for _ = 1, limit do
    if Q.soldOut or Q.next > Q.tail or Q.unused >= Q.available + Q.headroom then break end
    local user = userAt(K, Q, Q.next)
    local t = parseTicket(rcall('HGET', K.tickets, user))
    if t.status == 'w' then
      t.status, t.untilMs = 'a', now + Q.window
      if t.untilMs < Q.untilMax then Q.mixedUntil = math.max(Q.mixedUntil, Q.untilMax) end
      Q.untilMax = math.max(Q.untilMax, t.untilMs)
      rcall('HSET', K.tickets, user, formatTicket(t))
      rcall('RPUSH', K.admitted, user)
      notice(K, 'queue.admitted', now, int(t.untilMs), user)
      Q.unused, Q.admittedTotal, admitted = Q.unused + 1, Q.admittedTotal + 1, admitted + 1
    end
    Q.next = Q.next + 1
  end
  return admitted
end

-- A step of a line that opened and is closed (its sale moved into the future, or over): nobody is admitted,
-- and no admission window runs out while nobody may hold. An admitted ticket without a hold goes back to
-- waiting at its place; the line's next position moves back to the first such place, so at the reopening
-- these tickets are admitted again first, each with a whole window. The rate starts afresh at the reopening.
-- At most `limit` tickets per call; true while more are left.
local function closeLine(K, Q, limit)
  Q.rate, Q.rateAt = 0, 0
  for _ = 1, limit do
    local user = rcall('LPOP', K.admitted)
    if not user then return false end
    local t = parseTicket(rcall('HGET', K.tickets, user))
    if t.status == 'a' then
      t.status, t.untilMs = 'w', 0
      rcall('HSET', K.tickets, user, formatTicket(t))
      Q.unused = Q.unused - 1
      Q.next = math.min(Q.next, positionOf(K, Q, user, t))
    end
  end
  return rcall('LLEN', K.admitted) > 0
end
