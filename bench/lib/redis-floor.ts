import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { commands } from '../../src/redis/commands.js';
import { Keys } from '../../src/redis/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { dropPrefix } from '../../src/tools/redis-prefix.js';

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

async function evalshaUs(redis: Redis): Promise<{ calls: number; usec: number }> {
  const m = /^cmdstat_evalsha:calls=(\d+),usec=(\d+)/m.exec(await redis.info('commandstats'));
  return m ? { calls: Number(m[1]), usec: Number(m[2]) } : { calls: 0, usec: 0 };
}

/** Redis time per product of `calls()` (µs), `productsPerCall` products a call. */
async function perProduct(redis: Redis, productsPerCall: number, call: (products: number[]) => Promise<unknown>): Promise<number> {
  const before = await evalshaUs(redis);
  for (let c = 0; c < CALLS; c++) await call(Array.from({ length: productsPerCall }, (_, i) => (c * productsPerCall + i) % PRODUCTS));
  const after = await evalshaUs(redis);
  return (after.usec - before.usec) / ((after.calls - before.calls) * productsPerCall);
}

/**
 * The floor under the hold script's Redis time when a drop spreads so wide that each product has one
 * hold per call: one call at a time (no load beside it), `productsPerCall` products a call, on
 * `redisUrl` under a key prefix of its own. A script that only reads each product's record and
 * writes its counters back sets the least any design with a record per product can cost; the hold
 * script does that and writes the hold, the per-user units, the hold queue and the idempotency key.
 */
export async function measureRedisFloor(redisUrl: string, productsPerCall: number): Promise<RedisFloor> {
  const redis = defineScripts(new Redis(redisUrl));
  const keys = new Keys(`floor-${randomUUID().slice(0, 8)}`);
  const productKeys = Array.from({ length: PRODUCTS }, (_, i) => keys.product(`p${i}`));
  try {
    for (const k of productKeys) await commands.upsertProduct(redis, k, 'floor', 1, 'EUR', 1e9, '', '', '', 0, 0, 0);
    const least = (await redis.script('LOAD', LEAST_SCRIPT)) as string;
    const leastUs = await perProduct(redis, productsPerCall, (ps) => redis.evalsha(least, ps.length, ...ps.map((p) => productKeys[p]!.product)));
    let user = 0;
    const holdUs = await perProduct(redis, productsPerCall, (ps) =>
      commands.createHolds(redis, ps.map((p) => ({ keys: productKeys[p]!, requests: [{ userId: `u${user++}`, qty: 1, idempotencyKey: randomUUID() }] })), 60_000, Date.now()),
    );
    return { leastUs, holdUs };
  } finally {
    await dropPrefix(redis, keys.prefix);
    redis.disconnect();
  }
}
