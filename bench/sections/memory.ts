import { Redis } from 'ioredis';
import type { EngineProcess } from '../../src/tools/engine-process.js';
import { createProduct, productStock } from '../lib/engine-api.js';
import { fmtBytes, fmtInt, fmtMB } from '../lib/format.js';
import { runLoad } from '../lib/processes.js';
import { summarize, type RunSummary } from '../lib/summary.js';
import type { BenchContext, Row, Section } from '../lib/types.js';
import type { CreateHoldBody } from '../../src/contract.js';

const MAX_BYTES_PER_HOLD = 600;

interface MemoryRun {
  withKey: boolean;
  productId: string;
  holds: number;
  usedMemoryBefore: number;
  usedMemoryAfter: number;
  /** (after - before) / holds, INFO used_memory: everything the engine wrote, and anyone else's noise */
  bytesPerHold: number;
  /** MEMORY USAGE of the product's own keys, after minus before, per hold: no noise from other clients */
  productKeyBytesPerHold: number;
  load: RunSummary;
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))![1]);
}

/** Sum of MEMORY USAGE (exact, SAMPLES 0) over every key with the product's hash tag. */
async function productKeyBytes(redis: Redis, prefix: string, productId: string): Promise<number> {
  let total = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:{p:${productId}}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) total += Number((await redis.memory('USAGE', key, 'SAMPLES', 0)) ?? 0);
  } while (cursor !== '0');
  return total;
}

async function measure(ctx: BenchContext, engine: EngineProcess, redis: Redis, withKey: boolean): Promise<MemoryRun> {
  const n = ctx.opts.memoryHolds;
  const productId = await createProduct(engine, withKey ? 'mem-key' : 'mem-nokey', n * 2);
  ctx.log(`  ${fmtInt(n)} holds ${withKey ? 'with' : 'without'} Idempotency-Key, ${ctx.opts.memoryConnections} connections`);
  const keysBefore = await productKeyBytes(redis, engine.keyPrefix, productId);
  const usedMemoryBefore = await usedMemory(redis);
  const result = await runLoad({
    url: `${engine.url}/api/holds`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ product_id: productId, qty: 1 } satisfies CreateHoldBody),
    connections: ctx.opts.memoryConnections,
    amount: n,
    auth: { jwtSecret: engine.jwtSecret, users: ctx.opts.users },
    idempotencyKeys: withKey,
  });
  const usedMemoryAfter = await usedMemory(redis);
  const holds = (await productStock(engine, productId)).held;
  const keysAfter = await productKeyBytes(redis, engine.keyPrefix, productId);
  return {
    withKey,
    productId,
    holds,
    usedMemoryBefore,
    usedMemoryAfter,
    bytesPerHold: (usedMemoryAfter - usedMemoryBefore) / holds,
    productKeyBytesPerHold: (keysAfter - keysBefore) / holds,
    load: summarize(result),
  };
}

const rowsOf = (m: MemoryRun): Row[] => {
  const variant = m.withKey ? 'with Idempotency-Key' : 'without Idempotency-Key';
  return [
    {
      metric: `Redis memory per hold, ${variant} (INFO used_memory Δ)`,
      value: fmtBytes(m.bytesPerHold),
      baseline: `${fmtMB(m.usedMemoryAfter - m.usedMemoryBefore)} / ${fmtInt(m.holds)} holds`,
      target: `≤ ${MAX_BYTES_PER_HOLD} B`,
      pass: m.bytesPerHold <= MAX_BYTES_PER_HOLD,
    },
    { metric: `… of which the product's keys (MEMORY USAGE Δ)`, value: fmtBytes(m.productKeyBytesPerHold) },
  ];
};

/** Redis memory per hold: INFO used_memory right before and after creating N holds on a fresh product. */
export const memorySection: Section = {
  name: 'memory',
  title: 'Redis memory per hold',
  async run(ctx) {
    const engine = await ctx.engine();
    const redis = new Redis(engine.redisUrl, { lazyConnect: true });
    await redis.connect();
    try {
      const runs: MemoryRun[] = [];
      for (const withKey of [true, false]) runs.push(await measure(ctx, engine, redis, withKey));
      return {
        rows: runs.flatMap(rowsOf),
        runs: runs.map((m) => ({ label: `create holds, ${m.withKey ? 'with' : 'without'} key`, ...m.load })),
        notes: [
          'memory: Redis is shared, so the INFO used_memory delta can include other clients\' writes; ' +
            'the MEMORY USAGE line counts only the product\'s own keys (holds hash, expiry queue, per-user usage, idempotency buckets).',
        ],
        raw: runs,
      };
    } finally {
      redis.disconnect();
    }
  },
};
