import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, type Harness } from '../support/harness.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { Hold } from '../../src/contract.js';
import { body } from '../support/answers.js';
import { exited, spawnWorker } from '../support/worker-process.js';

const N = 60;
test.override('engineEnv', { JOB_LOCK_MS: '2000' });
// the API alone; workers run as separate processes below
test.override('harnessOptions', { worker: false });
let h: Harness;
let slowPostgres: TcpProxy;
test.beforeAll(({ postgresProxy, harness }) => {
  slowPostgres = postgresProxy;
  h = harness;
});

async function payOrders(pid: string): Promise<void> {
  await Promise.all(
    Array.from({ length: N }, async (_, i) => {
      const token = h.token(`killed-${i}`);
      const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }), Hold);
      await h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } });
      const raw = JSON.stringify({ event_id: `evt-killed-${i}`, type: 'payment.succeeded', hold_id: hold.id, amount_minor: 500, currency: 'EUR' });
      const res = await h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
      expect(res.status).toBe(200);
    }),
  );
}

const count = async (query: Promise<{ n: number }[]>) => (await query)[0]!.n;

describe('a worker killed mid-job', () => {
  it('has its jobs retried by another worker: every paid order lands once, no duplicates', async () => {
    const pid = await h.createProduct({ stock: N, unit_price_minor: 500 });
    await payOrders(pid);
    const persist = h.runtime.engine.ctx.queues.byName.persist;
    expect(await count(h.sql`SELECT count(*)::int AS n FROM orders`)).toBe(0);

    // a worker whose Postgres is slow, so jobs are in flight when it dies
    slowPostgres.setDelay(150);
    const victim = spawnWorker(h.config, { DATABASE_URL: slowPostgres.wrap(h.databaseUrl) });
    await expect.poll(() => persist.getActiveCount(), { timeout: 20_000, interval: 20 }).toBeGreaterThan(0);
    const inFlight = (await persist.getActive()).map((j) => j.id);
    victim.kill('SIGKILL');
    await exited(victim);
    expect(inFlight.length).toBeGreaterThan(0);

    const rescuer = spawnWorker(h.config);
    try {
      await expect.poll(() => count(h.sql`SELECT count(*)::int AS n FROM orders WHERE status = 'paid'`), { timeout: 45_000, interval: 250 }).toBe(N);
      await expect.poll(() => count(h.sql`SELECT count(*)::int AS n FROM payment_events`), { timeout: 20_000, interval: 250 }).toBe(N);
      // the jobs the dead worker held were taken over (stalled -> retried), not lost
      await expect.poll(() => persist.getActiveCount(), { timeout: 10_000 }).toBe(0);
      expect(await count(h.sql`SELECT count(*)::int AS n FROM orders`)).toBe(N);
      expect(await count(h.sql`SELECT count(DISTINCT hold_id)::int AS n FROM orders`)).toBe(N);
      const k = h.runtime.engine.ctx.keys.product(pid);
      await expect.poll(() => h.redis.scard(k.outbox), { timeout: 10_000 }).toBe(0);
    } finally {
      rescuer.kill('SIGTERM');
      await exited(rescuer);
    }
  });
});
