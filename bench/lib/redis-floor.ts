import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { commands } from '../../src/redis/commands.js';
import { Keys } from '../../src/redis/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { redisSpent } from './redis-stats.js';

/** Products the floor calls go round. */
const PRODUCTS = 1_000;
/** Script calls per measurement. */
const CALLS = 2_000;

/** The product record's fields the hold script reads, and the four it writes. */
const LEAST_SCRIPT = `
for i = 1, #KEYS do
  local p = redis.call('HMGET', KEYS[i], 'available', 'starts_at', 'ends_at', 'limit', 'price', 'held', 'seq', 'idem_day', 'admission', 'q_unused', 'hold_events')
  redis.call('HSET', KEYS[i], 'available', tonumber(p[1]) - 1, 'held', tonumber(p[6]) + 1, 'seq', tonumber(p[7]) + 1, 'idem_day', '')
end
return 1`;

export interface RedisFloor {
  /** µs of Redis per product for the least a hold could do: read its product's record and write it back */
  leastUs: number;
  /** µs of Redis per product for the hold script, one keyed hold per product, the same calls */
  holdUs: number;
}

/** Redis time per product of `calls()` (µs), `productsPerCall` products a call. */
async function perProduct(url: string, productsPerCall: number, call: (products: number[]) => Promise<unknown>): Promise<number> {
  const before = await redisSpent(url);
  for (let c = 0; c < CALLS; c++) await call(Array.from({ length: productsPerCall }, (_, i) => (c * productsPerCall + i) % PRODUCTS));
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
  const keys = new Keys('floor');
  const productKeys = Array.from({ length: PRODUCTS }, (_, i) => keys.product(`p${i}`));
  try {
    for (const k of productKeys) await commands.upsertProduct(redis, k, 'floor', 1, 'EUR', 1e9, '', '', '', 0, 0, 0);
    const least = (await redis.script('LOAD', LEAST_SCRIPT)) as string;
    const leastUs = await perProduct(server.url, productsPerCall, (ps) => redis.evalsha(least, ps.length, ...ps.map((p) => productKeys[p]!.product)));
    let user = 0;
    const holdUs = await perProduct(server.url, productsPerCall, (ps) =>
      commands.createHolds(redis, ps.map((p) => ({ keys: productKeys[p]!, requests: [{ userId: `u${user++}`, qty: 1, idempotencyKey: randomUUID() }] })), 60_000, Date.now()),
    );
    return { leastUs, holdUs };
  } finally {
    redis.disconnect();
    await server.stop();
  }
}
