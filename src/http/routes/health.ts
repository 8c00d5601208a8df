import { Hono } from 'hono';
import type { HealthLive, HealthReady } from '../../contract.js';
import { withDeadline } from '../../deadline.js';
import type { Engine } from '../../engine/engine.js';

const CHECK_TIMEOUT_MS = 1_000;

async function check(fn: () => Promise<unknown>): Promise<'ok' | string> {
  try {
    await withDeadline(fn(), CHECK_TIMEOUT_MS, () => new Error('timed out'));
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

export function healthRoutes(engine: Engine): Hono {
  const { redis, durability, sql, queues } = engine.ctx;
  const redisReady = async () => {
    await redis.ping();
    // a Redis that came back (or failed over) with weaker persistence than REDIS_DURABILITY asks for
    if (durability.problem) throw new Error(durability.problem);
  };
  return new Hono()
    .get('/live', (c) => c.json({ status: 'ok', pid: process.pid } satisfies HealthLive))
    .get('/ready', async (c) => {
      const [r, p, q] = await Promise.all([check(redisReady), check(() => sql`SELECT 1`), check(() => queues.depths())]);
      const checks = { redis: r, postgres: p, queues: q };
      const ready = Object.values(checks).every((v) => v === 'ok');
      return c.json({ status: ready ? 'ok' : 'unavailable', checks } satisfies HealthReady, ready ? 200 : 503);
    });
}
