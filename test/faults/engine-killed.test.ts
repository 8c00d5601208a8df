import { describe, expect, inject, it } from 'vitest';
import { createProduct } from '../../bench/lib/engine-api.js';
import { AcknowledgedWrites } from '../../loadtests/lib/acknowledged-writes.js';
import { startEngineProcess } from '../../src/tools/engine-process.js';
import { startRedisServer } from '../../src/tools/redis-server.js';

/**
 * The engine (API and worker in one process) SIGKILLed at random moments under the mixed load of the
 * acknowledged-writes checker, and started again on the same Redis and database. Afterwards the
 * customers and the payment provider send everything again: a key answers the hold it answered first,
 * a hold the order it answered first, a payment leaves its order paid and is applied once; nothing is
 * in Postgres twice, and every acknowledged write and the stock invariants hold.
 */

const KILL_ROUNDS = 2;
const CUSTOMERS = 8;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

describe('the engine killed mid-load', () => {
  it('SIGKILLed and restarted: retried keys, orders and payments answer as the first time, nothing duplicated, nothing acknowledged lost', async () => {
    const redis = await startRedisServer();
    const engine = await startEngineProcess({
      redisUrl: redis.url,
      postgresUrl: inject('postgresUrl'),
      env: { RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: 'error', SWEEP_INTERVAL_MS: '1000' },
    });
    try {
      const products = await Promise.all([1, 2].map((n) => createProduct(engine, `killed-${n}`, 1_000_000)));
      const writes = new AcknowledgedWrites(engine, products);
      const load = writes.run(CUSTOMERS);
      try {
        for (let round = 0; round < KILL_ROUNDS; round++) {
          await sleep(between(1000, 2500));
          await engine.kill();
          await engine.start();
        }
        await sleep(1000);
      } finally {
        writes.stop();
        await load;
      }
      expect(writes.acknowledged).toBeGreaterThan(0);
      expect(await writes.retry()).toEqual([]);
      expect(await writes.verify()).toEqual([]);
      expect(await writes.duplicates()).toEqual([]);
    } finally {
      await engine.stop();
      await redis.stop();
    }
  });
});
