import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { commands } from '../../src/redis/commands.js';
import type { RedisClient } from '../../src/redis/client.js';
import { Keys, type ProductKeys } from '../../src/redis/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { redisSpent } from './redis-stats.js';

/** Products the floor calls go round. */
export const FLOOR_PRODUCTS = 1_000;
/** Script calls per measurement. */
const CALLS = 2_000;

/** The product record's fields the hold script reads, and the four it writes. */
export const LEAST_SCRIPT = `
for i = 1, #KEYS do
  local p = redis.call('HMGET', KEYS[i], 'available', 'starts_at', 'ends_at', 'limit', 'price', 'held', 'seq', 'idem_day', 'admission', 'hold_events')
  redis.call('HSET', KEYS[i], 'available', tonumber(p[1]) - 1, 'held', tonumber(p[6]) + 1, 'seq', tonumber(p[7]) + 1, 'idem_day', '')
end
return 1`;

/**
 * A hold on records the call's products share (one hash per slot, not one per product): each product's
 * counters packed in one field of a shared hash, its holds, units and idempotency keys fields of three
 * more. It reads the counters and the keys with one command each for the whole call, checks the key and
 * the stock, and writes counters, holds, keys and units back with one command each (the units with one
 * per hold). KEYS: counters, units, holds, keys. ARGV: product, user, key per request (one unit each).
 * The least a design that stops keeping a record per product could cost a hold; not the engine's script.
 */
const SHARED_SCRIPT = `
local products, keyFields = {}, {}
for i = 1, #ARGV, 3 do
  products[#products + 1] = ARGV[i]
  keyFields[#keyFields + 1] = ARGV[i] .. '\\0' .. ARGV[i + 1] .. '\\0' .. ARGV[i + 2]
end
local counters = redis.call('HMGET', KEYS[1], unpack(products))
local earlier = redis.call('HMGET', KEYS[4], unpack(keyFields))
local state, holds, keys, units = {}, {}, {}, {}
for j, id in ipairs(products) do
  local s = state[id]
  if not s and counters[j] then
    local available, held, seq = string.match(counters[j], '^(%d+)|(%d+)|(%d+)$')
    s = { available = tonumber(available), held = tonumber(held), seq = tonumber(seq) }
    state[id] = s
  end
  if s and not earlier[j] and s.available > 0 then
    local user = ARGV[3 * j - 1]
    s.available, s.held, s.seq = s.available - 1, s.held + 1, s.seq + 1
    holds[#holds + 1], holds[#holds + 2] = id .. ':' .. s.seq, 'a|1|' .. user
    keys[#keys + 1], keys[#keys + 2] = keyFields[j], '1:' .. s.seq
    units[#units + 1] = id .. '\\0' .. user
  end
end
local out = {}
for id, s in pairs(state) do out[#out + 1], out[#out + 2] = id, s.available .. '|' .. s.held .. '|' .. s.seq end
redis.call('HSET', KEYS[1], unpack(out))
if #holds > 0 then
  redis.call('HSET', KEYS[3], unpack(holds))
  redis.call('HSET', KEYS[4], unpack(keys))
  for _, field in ipairs(units) do redis.call('HINCRBY', KEYS[2], field, 1) end
end
return #holds / 2`;

/** FLOOR_PRODUCTS products of ample stock, open, on a Redis of the floor's own; their keys. */
export async function createFloorProducts(redis: RedisClient): Promise<ProductKeys[]> {
  const keys = new Keys('floor');
  const productKeys = Array.from({ length: FLOOR_PRODUCTS }, (_, i) => keys.product(`p${i}`));
  for (const k of productKeys) await commands.upsertProduct(redis, k, 'floor', 1, 'EUR', 1e9, '', '', '', 0, 0, 0);
  return productKeys;
}

export interface RedisFloor {
  /** µs of Redis per product for the least a hold could do: read its product's record and write it back */
  leastUs: number;
  /** µs of Redis per product for the hold script, one keyed hold per product, the same calls */
  holdUs: number;
  /** µs of Redis per product for a keyed hold on records the call's products share (SHARED_SCRIPT), the same calls */
  sharedUs: number;
}

/** Redis time per product of `calls()` (µs), `productsPerCall` products a call. */
async function perProduct(url: string, productsPerCall: number, call: (products: number[]) => Promise<unknown>): Promise<number> {
  const before = await redisSpent(url);
  for (let c = 0; c < CALLS; c++) await call(Array.from({ length: productsPerCall }, (_, i) => (c * productsPerCall + i) % FLOOR_PRODUCTS));
  const after = await redisSpent(url);
  return (after.scriptUs - before.scriptUs) / ((after.scriptCalls - before.scriptCalls) * productsPerCall);
}

/**
 * The floor under the hold script's Redis time when a drop spreads so wide that each product has one
 * hold per call: one call at a time, `productsPerCall` products a call, on a Redis of its own (nothing
 * else runs scripts there: an engine's sweep would add its own to the count). A script that only reads each product's record and
 * writes its counters back sets the least any design with a record per product can cost; the hold
 * script does that and writes the hold, the per-user units, the hold queue and the idempotency key.
 */
export async function measureRedisFloor(productsPerCall: number): Promise<RedisFloor> {
  const server = await startRedisServer();
  const redis = defineScripts(new Redis(server.url));
  try {
    const productKeys = await createFloorProducts(redis);
    const least = (await redis.script('LOAD', LEAST_SCRIPT)) as string;
    const leastUs = await perProduct(server.url, productsPerCall, (ps) => redis.evalsha(least, ps.length, ...ps.map((p) => productKeys[p]!.product)));
    let user = 0;
    const holdUs = await perProduct(server.url, productsPerCall, (ps) =>
      commands.createHolds(redis, ps.map((p) => ({ keys: productKeys[p]!, requests: [{ userId: `u${user++}`, qty: 1, idempotencyKey: randomUUID() }] })), 60_000, Date.now()),
    );
    const shared = (await redis.script('LOAD', SHARED_SCRIPT)) as string;
    const sharedKeys = ['counters', 'units', 'holds', 'keys'].map((k) => `floor:{shared}:${k}`);
    await redis.hset(sharedKeys[0]!, Object.fromEntries(productKeys.map((_, p) => [`p${p}`, '1000000000|0|0'])));
    const sharedUs = await perProduct(server.url, productsPerCall, (ps) =>
      redis.evalsha(shared, sharedKeys.length, ...sharedKeys, ...ps.flatMap((p) => [`p${p}`, `u${user++}`, randomUUID()])),
    );
    return { leastUs, holdUs, sharedUs };
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
