import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, type Harness } from '../support/harness.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { Hold, PaymentOutcome, Problem } from '../../src/contract.js';
import { body } from '../support/answers.js';

test.override('engineEnv', { SWEEP_INTERVAL_MS: '1000' });
test.override('harnessOptions', ({ postgresProxy }) => ({ engineDatabaseUrl: (url: string) => postgresProxy.wrap(url) }));
let h: Harness;
let proxy: TcpProxy;
test.beforeAll(({ postgresProxy, harness }) => {
  proxy = postgresProxy;
  h = harness;
});
// the tests cut Postgres off: it must be back before the engine closes
test.afterAll(() => proxy.restore());

const N = 200;

describe('Postgres outage', () => {
  it('a request that needs Postgres answers 503 within the deadline when Postgres stops answering', async () => {
    const pid = await h.createProduct({ stock: 1 });
    proxy.setDelay(10_000);
    try {
      const started = Date.now();
      // an order Redis does not have is looked up in Postgres
      const res = await h.request('GET', `/api/orders/o_999_${pid}`, { token: h.token('patient') });
      expect(res.status).toBe(503);
      expect((await body(res, Problem)).code).toBe('unavailable');
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      proxy.setDelay(0);
    }
  });

  it('answers an id Postgres did not have 404 again for a second without asking it: a flood of unknown ids is no query each', async () => {
    const missing = `${await h.createProduct({ stock: 1 })}x`;
    expect((await h.request('GET', `/api/products/${missing}`)).status).toBe(404);
    proxy.setDelay(10_000);
    try {
      const again = await Promise.all(Array.from({ length: 20 }, () => h.request('GET', `/api/products/${missing}`)));
      expect(again.map((r) => r.status)).toEqual(Array(20).fill(404));
    } finally {
      proxy.setDelay(0);
    }
  });

  it('keeps selling while Postgres is cut off, refuses payments until it is back, then writes exactly every paid order once', async () => {
    const pid = await h.createProduct({ stock: N, unit_price_minor: 990 });
    proxy.cut();
    const ready = await h.request('GET', '/health/ready');
    expect(ready.status).toBe(503);

    const k = h.runtime.engine.ctx.keys.product(pid);
    const payments = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const token = h.token(`outage-${i}`);
        const hold = await h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } });
        expect(hold.status).toBe(201);
        const holdId = (await body(hold, Hold)).id;
        const order = await h.request('POST', '/api/orders', { token, body: { hold_id: holdId } });
        expect(order.status).toBe(201);
        const raw = JSON.stringify({ event_id: `evt-outage-${i}`, type: 'payment.succeeded', hold_id: holdId, amount_minor: 990, currency: 'EUR' });
        return () => h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
      }),
    );
    // a payment cannot be stored in the inbox: 503 with Retry-After, so the provider retries; nothing applied
    const refused = await Promise.all(payments.slice(0, 20).map(async (pay) => {
      const res = await pay();
      return { status: res.status, retryAfter: res.headers.get('retry-after'), code: (await body(res, Problem)).code };
    }));
    expect(refused).toEqual(Array.from({ length: 20 }, () => ({ status: 503, retryAfter: '1', code: 'unavailable' })));
    expect(await h.redis.hlen(k.events)).toBe(0);
    expect(await h.stock(pid)).toEqual({ total: N, available: 0, held: 0, pending_payment: N, sold: 0 });
    // the order writes are failing and being retried; a few seconds more of outage
    const persist = h.runtime.engine.ctx.queues.byName.persist;
    await expect.poll(() => persist.getDelayedCount(), { timeout: 10_000 }).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 3000));
    // nothing reached Postgres while it was away
    expect((await h.sql`SELECT count(*)::int AS n FROM orders`)[0]!.n).toBe(0);

    proxy.restore();
    // the providers' retries go through. (A refused delivery whose insert was still on its way when the
    // request gave up may be in the inbox already, and applied by the sweep's recovery: its retry is a duplicate.)
    for (const res of await Promise.all(payments.map((pay) => pay()))) {
      expect((await body(res, PaymentOutcome)).order_status).toBe('paid');
    }
    expect(await h.stock(pid)).toEqual({ total: N, available: 0, held: 0, pending_payment: 0, sold: N });
    await expect
      .poll(async () => (await h.sql`SELECT count(*)::int AS n FROM orders WHERE status = 'paid'`)[0]!.n, { timeout: 60_000, interval: 500 })
      .toBe(N);
    await expect.poll(async () => (await h.sql`SELECT count(*)::int AS n FROM payment_events`)[0]!.n, { timeout: 30_000, interval: 500 }).toBe(N);
    const [rows] = await h.sql`SELECT count(*)::int AS n, count(DISTINCT hold_id)::int AS holds, sum(total_minor)::int AS total FROM orders`;
    expect(rows).toEqual({ n: N, holds: N, total: N * 990 });
    const results = await h.sql`SELECT DISTINCT result FROM payment_events`;
    expect(results.map((r) => r.result)).toEqual(['applied']);
    await expect.poll(async () => (await h.sql`SELECT count(*)::int AS n FROM payment_inbox WHERE result = 'applied'`)[0]!.n, { timeout: 10_000 }).toBe(N);
    await expect.poll(async () => (await h.redis.scard(k.outbox)) + (await h.redis.scard(k.eventOutbox)), { timeout: 10_000 }).toBe(0);
    expect((await h.request('GET', '/health/ready')).status).toBe(200);
  });
});
