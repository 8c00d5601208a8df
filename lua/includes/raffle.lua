-- A raffle's state lives on the product hash: raffle_closes_at, r_drawn (when it was drawn, '' before),
-- r_seed (revealed by the draw), r_winners (winners of the draw itself), r_next (the index in the draw
-- list of the next entrant to win: the waitlist).
--
-- The draw gives holds, so it is due at the close but not before the sale starts; the waitlist, too, gives
-- units only while the sale is on.
local function drawDueAt(closesAt, startsAt)
  return math.max(tonumber(closesAt) or 0, tonumber(startsAt) or 0)
end

-- Gives the next entrants in draw order a hold of one unit each while units are available (at most
-- `limit` per call). An entrant wins once: the list holds each customer once and is walked forward.
-- Returns how many won now, when their holds expire (0 if none won), and whether the waitlist goes on.
local function awardWaitlist(K, now, ttl, limit)
  local p = rcall('HMGET', K.product, 'available', 'held', 'seq', 'price', 'r_next', 'hold_ttl')
  local available, held, seq, price, nextIndex = tonumber(p[1]), tonumber(p[2]), tonumber(p[3]), p[4], tonumber(p[5]) or 0
  local total = rcall('LLEN', K.draw)
  local expires = now + ttl
  local awarded = 0
  while available > 0 and nextIndex < total and awarded < limit do
    local users = rcall('LRANGE', K.draw, nextIndex, nextIndex + math.min(available, limit - awarded) - 1)
    for _, user in ipairs(users) do
      nextIndex = nextIndex + 1
      local rec = rcall('HGET', K.tickets, user)
      if rec and parseTicket(rec).status == 'e' then
        seq, available, held, awarded = seq + 1, available - 1, held + 1, awarded + 1
        local seqStr = int(seq)
        if awarded == 1 and p[6] ~= int(ttl) then noteTtl(K.product, K.holdQueue, 'hold_ttl', int(ttl), p[6], now, holdDueIn(K.holds)) end
        local h = { status = 'a', qty = 1, created = now, expires = expires, price = price, user = user }
        rcall('HSET', K.holds, seqStr, formatHold(h))
        noticeHold(K, 'hold.created', seqStr, h, now)
        notice(K, 'raffle.won', now, seqStr, user)
        rcall('RPUSH', K.holdQueue, seqStr)
        rcall('HINCRBY', K.used, user, 1)
        rcall('HSET', K.tickets, user, formatTicket({ status = 'd', position = 0, untilMs = expires, seq = seqStr }))
        if available == 0 then break end
      end
    end
  end
  rcall('HSET', K.product, 'available', int(available), 'held', int(held), 'seq', int(seq), 'r_next', int(nextIndex))
  return awarded, awarded > 0 and expires or 0, nextIndex < total
end
