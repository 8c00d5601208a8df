-- A deadline queue (holds, orders) is in due order while the TTL its entries are placed with does not
-- shrink: entries placed after a shorter TTL took over (a lowered HOLD_TTL_MS or PAYMENT_TTL_MS, or
-- processes configured apart) may fall due before entries placed before. Then a marker
-- "m<from>:<until>" heads the queue: until `until`, when everything placed before `from` is due, a walk
-- (drainDue) looks past entries placed before `from` that are not due yet.

-- The marker's from and until, or nil for an entry that is not one.
local function parseShrink(entry)
  if not entry or string.byte(entry, 1) ~= 109 then return nil end -- 'm'
  local from, untilMs = string.match(entry, '^m(%d+):(%d+)$')
  return tonumber(from), tonumber(untilMs)
end

-- Records on the product (field `field`) the TTL the caller places entries with now, `last` the one
-- recorded before (nil: none); a shorter one than `last` marks the queue's head, before the caller's
-- entries join it. Cheap unless the TTL changed: a string compare.
local function noteTtl(productKey, queueKey, field, ttl, last, now)
  ttl = int(ttl)
  if last == ttl then return end
  redis.call('HSET', productKey, field, ttl)
  local before = tonumber(last)
  if not before or before <= tonumber(ttl) then return end
  local head = redis.call('LINDEX', queueKey, 0)
  if not head then return end
  -- (an entry placed in this same millisecond, before the change, counts as placed before `from`)
  local marker = 'm' .. int(now + 1) .. ':'
  local _, untilMs = parseShrink(head)
  if untilMs then
    redis.call('LSET', queueKey, 0, marker .. int(math.max(untilMs, now + before)))
  else
    redis.call('LPUSH', queueKey, marker .. int(now + before))
  end
end
