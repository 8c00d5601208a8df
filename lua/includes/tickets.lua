-- Ticket record (tickets hash, field = user id): "status|position|until ms|hold seq".
-- status: w(aiting)  a(dmitted, no hold placed yet)  u(sed: admitted, and placed a hold)
--         x (the admission window passed unused)  e(ntered a raffle)  d(rawn: won a raffle, its hold is `seq`)
-- A customer who joined before the line opened has position 0: their place is their rank in the pre-queue.
local function parseTicket(rec)
  local status, position, untilMs, seq = string.match(rec, '^(%a)|(%d+)|(%d+)|(%d*)$')
  return { status = status, position = tonumber(position), untilMs = tonumber(untilMs), seq = seq }
end

local function formatTicket(t)
  return t.status .. '|' .. int(t.position) .. '|' .. int(t.untilMs) .. '|' .. (t.seq or '')
end
