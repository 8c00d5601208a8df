-- Notices: what happens to holds and tickets, which have no Postgres rows of their own to announce
-- (orders and payments do). A sorted set on the product's slot, member "type|at ms|ref|rest" scored by
-- time, written in the same atomic step as the change; the persistence drain turns the members into
-- outbound events and removes exactly those it wrote (`writeNotices` in src/engine/persistence.ts). Hold notices are
-- written only while an endpoint subscribes to hold events (the product's hold_events field): they are
-- as many as the holds. NOTICES.count is what this call wrote, so the caller can ask for a drain.
local NOTICES = { count = 0 }
local function notice(K, type, at, ref, rest)
  redis.call('ZADD', K.notices, at, type .. '|' .. int(at) .. '|' .. ref .. '|' .. rest)
  NOTICES.count = NOTICES.count + 1
end

-- (whether the product's hold events are subscribed to is read once per call and product: on K)
local function noticeHold(K, type, seq, h, at)
  if K.holdEvents == nil then K.holdEvents = redis.call('HGET', K.product, 'hold_events') == '1' end
  if K.holdEvents then notice(K, type, at, seq, formatHold(h)) end
end
