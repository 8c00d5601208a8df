-- The waiting room's state lives on the product hash, next to the stock it admits to:
--   q_pre      customers who joined before the line opened ('' while it is not open)
--   q_tail     the last position handed out          q_next   the next position to admit
--   q_unused   admitted tickets without a hold yet   q_sold_out  '1' once nothing held or pending can return
--   q_admitted admissions so far                     q_rate   admissions per second, a moving average
--   q_rate_at / q_rate_mark                          when the rate was last sampled, and q_admitted then
local LINE_FIELDS = { 'admission', 'starts_at', 'admission_window_ms', 'admission_headroom', 'available', 'held',
  'pending', 'q_pre', 'q_tail', 'q_next', 'q_unused', 'q_sold_out', 'q_admitted', 'q_rate', 'q_rate_at', 'q_rate_mark' }
-- How far back the admission rate looks (the time constant of its moving average).
local RATE_WINDOW_MS = 30000

local function loadLine(productKey)
  local v = rcall('HMGET', productKey, unpack(LINE_FIELDS))
  if not v[5] then return nil end
  local function n(x) return tonumber(x) or 0 end
  return { admission = v[1] or 'open', starts = v[2] or '', window = n(v[3]), headroom = n(v[4]),
    available = n(v[5]), held = n(v[6]), pending = n(v[7]), pre = v[8] or '', tail = n(v[9]), next = n(v[10]),
    unused = n(v[11]), soldOut = v[12] == '1', admittedTotal = n(v[13]), rate = n(v[14]), rateAt = n(v[15]),
    rateMark = n(v[16]) }
end

local function saveLine(productKey, Q)
  rcall('HSET', productKey, 'q_pre', Q.pre, 'q_tail', int(Q.tail), 'q_next', int(Q.next), 'q_unused', int(Q.unused),
    'q_sold_out', Q.soldOut and '1' or '', 'q_admitted', int(Q.admittedTotal), 'q_rate', string.format('%.4f', Q.rate),
    'q_rate_at', int(Q.rateAt), 'q_rate_mark', int(Q.rateMark))
end

-- Opens the line once the sale has started: the pre-queue is frozen, its members hold positions 1..n in
-- the order of their random scores, and everyone after them queues in arrival order. True when open.
local function openLine(K, Q, now)
  if Q.pre ~= '' then return true end
  if Q.starts ~= '' and now < tonumber(Q.starts) then return false end
  local n = rcall('ZCARD', K.preQueue)
  Q.pre, Q.tail, Q.next = int(n), n, 1
  return true
end

-- A ticket's position: fixed on arrival after the opening, the pre-queue rank for the early ones (0 until then).
local function positionOf(K, Q, user, t)
  if t.position > 0 or Q.pre == '' then return t.position end
  return rcall('ZRANK', K.preQueue, user) + 1
end

local function userAt(K, Q, position)
  if position <= tonumber(Q.pre) then return rcall('ZRANGE', K.preQueue, position - 1, position - 1)[1] end
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

  if Q.available > 0 then Q.soldOut = false
  elseif Q.held == 0 and Q.pending == 0 then Q.soldOut = true end

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
      rcall('HSET', K.tickets, user, formatTicket(t))
      rcall('RPUSH', K.admitted, user)
      notice(K, 'queue.admitted', now, int(t.untilMs), user)
      Q.unused, Q.admittedTotal, admitted = Q.unused + 1, Q.admittedTotal + 1, admitted + 1
    end
    Q.next = Q.next + 1
  end
  return admitted
end
