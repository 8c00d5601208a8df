-- An integer as a string. Lua numbers are doubles, and `..` or a number argument to redis.call formats
-- them with "%.14g", much slower than "%d", and the hold path formats several per hold.
-- (A string, already an integer's text, is returned as it is.)
local function int(n)
  if type(n) == 'string' then return n end
  return string.format('%d', n)
end

-- Hold record: "status|qty|created|expires|price|user"; status a(ctive) c(onverted) r(eleased) e(xpired).
local function parseHold(rec)
  local status, qty, created, expires, price, user =
    string.match(rec, '^(%a)|(%d+)|(%d+)|(%d+)|(%d+)|(.*)$')
  return { status = status, qty = tonumber(qty), created = tonumber(created), expires = tonumber(expires),
    price = tonumber(price), user = user }
end

local function formatHold(h)
  return h.status .. '|' .. int(h.qty) .. '|' .. int(h.created) .. '|' .. int(h.expires) .. '|' .. int(h.price) .. '|' .. h.user
end

-- Gives a user's units back to the per-user limit; the field goes when it reaches zero.
local function releaseUsed(usedKey, user, qty)
  if redis.call('HINCRBY', usedKey, user, -qty) <= 0 then redis.call('HDEL', usedKey, user) end
end

-- Ends active holds ({seq, h} each) as r(eleased) or e(xpired) and returns their stock: the only place a
-- hold's stock comes back. The records, the product's counters and each user's units are written once
-- for all of them.
local function endHolds(productKey, usedKey, holdsKey, ended, status)
  local records, qty, byUser = {}, 0, {}
  for _, e in ipairs(ended) do
    e.h.status = status
    records[#records + 1], records[#records + 2] = e.seq, formatHold(e.h)
    qty = qty + e.h.qty
    byUser[e.h.user] = (byUser[e.h.user] or 0) + e.h.qty
  end
  if #records == 0 then return end
  redis.call('HSET', holdsKey, unpack(records))
  redis.call('HINCRBY', productKey, 'held', -qty)
  redis.call('HINCRBY', productKey, 'available', qty)
  for user, units in pairs(byUser) do releaseUsed(usedKey, user, units) end
end
