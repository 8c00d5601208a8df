import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';

const CHECK_TIMEOUT_MS = 1_000;

async function check(fn: () => Promise<unknown>): Promise<'ok' | string> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      fn(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timed out')), CHECK_TIMEOUT_MS);
      }),
    ]);
    return 'ok';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(engine: Engine): Hono {
  const { redis, sql, queues } = engine.ctx;
  return new Hono()
    .get('/live', (c) => c.json({ status: 'ok' }))
    .get('/ready', async (c) => {
      const [r, p, q] = await Promise.all([check(() => redis.ping()), check(() => sql`SELECT 1`), check(() => queues.depths())]);
      const checks = { redis: r, postgres: p, queues: q };
      const ready = Object.values(checks).every((v) => v === 'ok');
      return c.json({ status: ready ? 'ok' : 'unavailable', checks }, ready ? 200 : 503);
    });
}
