-- A deadline queue (holds, orders) is in due order while the TTL its entries are placed with does not
-- shrink. A shorter one (a lowered HOLD_TTL_MS or PAYMENT_TTL_MS, processes configured apart) starts a
-- new run: the queue is then runs, each in due order, behind a marker "m<len>:<done>,...,:<done>" at its
-- head that gives each run's length (but the last's: the rest of the list) and how many entries at its
-- head were handled already (the first run's leave the list, the others' stay until the runs before
-- them are gone). The walk (drainDue) walks the head of every run, and the marker goes with the last
-- run but one.
local RUNS_MAX = 8

-- The runs of a marker ({len, done} each, the last one's len unknown), or nil for an entry that is not one.
local function parseRuns(entry)
  if not entry or string.byte(entry, 1) ~= 109 then return nil end -- 'm'
  local runs = {}
  for len, done in string.gmatch(entry, '(%d*):(%d+)') do runs[#runs + 1] = { len = tonumber(len), done = tonumber(done) } end
  return runs
end

local function formatRuns(runs)
  local parts = {}
  for i, r in ipairs(runs) do parts[i] = (i < #runs and int(r.len) or '') .. ':' .. int(r.done) end
  return 'm' .. table.concat(parts, ',')
end

-- The last run's length: what the other runs and the marker leave of the list.
local function lastRunLength(queueKey, runs)
  local n = redis.call('LLEN', queueKey) - 1
  for i = 1, #runs - 1 do n = n - runs[i].len end
  return n
end

-- A hold's deadline by its seq (0 when its record is gone), for noteTtl.
local function holdDueIn(holdsKey)
  return function(seq)
    local rec = redis.call('HGET', holdsKey, seq)
    return rec and parseHold(rec).expires or 0
  end
end

-- Records on the product (`field`) the TTL the caller places entries with, a string, when it differs
-- from `last` (the one recorded before; the caller compares, so the usual call costs a string compare).
-- A shorter one starts a new run before the caller's entries join the queue. Without a TTL recorded (a
-- record rebuilt, or older than the field) the queue's last entry decides: `dueOf(seq)` is its deadline.
-- Past RUNS_MAX runs the entries join the last one: they may wait behind its earlier entries, at most
-- as long as the difference of the TTLs.
local function noteTtl(productKey, queueKey, field, ttl, last, now, dueOf)
  redis.call('HSET', productKey, field, ttl)
  local shrinks
  if tonumber(last) then
    shrinks = tonumber(last) > tonumber(ttl)
  else
    local tail = redis.call('LINDEX', queueKey, -1)
    shrinks = tail ~= false and not parseRuns(tail) and dueOf(tail) > now + tonumber(ttl)
  end
  if not shrinks then return end
  local head = redis.call('LINDEX', queueKey, 0)
  if not head then return end
  local runs = parseRuns(head)
  if not runs then
    redis.call('LPUSH', queueKey, formatRuns({ { len = redis.call('LLEN', queueKey), done = 0 }, { done = 0 } }))
  elseif #runs < RUNS_MAX then
    runs[#runs].len = lastRunLength(queueKey, runs)
    runs[#runs + 1] = { done = 0 }
    redis.call('LSET', queueKey, 0, formatRuns(runs))
  end
end
