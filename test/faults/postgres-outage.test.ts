import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, uniq, WEBHOOK_SECRET, type Harness } from '../support/harness.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { CreatedWebhookEndpoint, Hold, PaymentOutcome, Problem, Product } from '../../src/contract.js';
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

const lockWaiters = async () =>
  (await h.sql<{ n: number }[]>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()`)[0]!.n;

/**
 * Until nothing the engine sent is still on its way and no transaction of this database is open: the
 * work requests left behind is over (a session waiting for the client's next step is idle in
 * transaction; one whose BEGIN has not arrived has a chunk in the proxy).
 */
async function settled(): Promise<void> {
  const busy = () => h.sql<{ state: string; query: string }[]>`
    SELECT state, query FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')`;
  const until = Date.now() + 30_000;
  for (let quiet = 0; quiet < 3; ) {
    const open = await busy();
    quiet = proxy.delayedChunks() + open.length === 0 ? quiet + 1 : 0;
    // (failing with what is still open says more than the test's timeout would)
    if (Date.now() > until) expect({ delayedChunks: proxy.delayedChunks(), open }).toEqual({ delayedChunks: 0, open: [] });
    await new Promise((r) => setTimeout(r, 100));
  }
}

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

  it('answers admin and endpoint requests 503 within the deadline when Postgres stops answering, and commits none of the creations and changes it refused', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 700 });
    // a product Redis lost: its views rebuild it from Postgres first
    const lost = await h.createProduct({ stock: 1 });
    await h.redis.del(h.runtime.engine.ctx.keys.product(lost).product);
    const newId = uniq('p');
    const newProduct = { id: newId, name: 'Late', unit_price_minor: 100, currency: 'EUR', stock: 3 };
    const admin = { token: ADMIN_TOKEN };
    const kept = await body(h.request('POST', '/api/admin/webhook-endpoints', { ...admin, body: { url: 'http://127.0.0.1:9/kept', events: ['hold.created'] } }), CreatedWebhookEndpoint);
    // every chunk 2 s each way: one round trip to Postgres takes longer than the deadline
    proxy.setDelay(2_000);
    let answers: { status: number; code?: string; retryAfter: string | null }[];
    try {
      answers = await Promise.all(
        [
          h.request('POST', '/api/admin/products', { ...admin, body: newProduct }),
          h.request('PATCH', `/api/admin/products/${pid}`, { ...admin, body: { stock: 2, unit_price_minor: 1 } }),
          h.request('GET', `/api/admin/products/${lost}`, admin),
          h.request('GET', `/api/products/${lost}`),
          h.request('POST', '/api/admin/reconcile', admin),
          h.request('POST', '/api/admin/recover', { ...admin, body: {} }),
          h.request('POST', '/api/admin/webhook-endpoints', { ...admin, body: { url: 'http://127.0.0.1:9/hook', events: ['hold.created'] } }),
          h.request('GET', '/api/admin/webhook-endpoints', admin),
          h.request('GET', '/api/admin/webhook-endpoints/ep_000000000000000000000000', admin),
          h.request('GET', '/api/admin/webhook-endpoints/ep_000000000000000000000000/deliveries', admin),
          h.request('DELETE', `/api/admin/webhook-endpoints/${kept.id}`, admin),
          h.request('POST', `/api/admin/webhook-endpoints/${kept.id}/enable`, admin),
          h.request('POST', '/api/admin/webhook-deliveries/dlv_00000000000000000000000000000000/redeliver', admin),
        ].map(async (answer) => {
          const res = await answer;
          return { status: res.status, code: ((await res.json()) as { code?: string }).code, retryAfter: res.headers.get('retry-after') };
        }),
      );
    } finally {
      proxy.setDelay(0);
    }
    // (waited for, each would have answered once Postgres did: 201, 200 or 404)
    expect(answers).toEqual(Array(13).fill({ status: 503, code: 'unavailable', retryAfter: '1' }));

    // the work went on; once it is over, none of the refused creations and changes is in Postgres or Redis
    // (a redelivery goes on after its 503: here it named nothing)
    await settled();
    expect(await h.sql`SELECT stock, unit_price_minor::int AS price FROM products WHERE id = ${pid}`).toEqual([{ stock: 5, price: 700 }]);
    expect((await h.stock(pid)).total).toBe(5);
    expect(await h.sql`SELECT id FROM webhook_endpoints`).toEqual([{ id: kept.id }]);
    expect(await h.sql`SELECT id FROM products WHERE id = ${newId}`).toEqual([]);
    expect((await h.request('POST', '/api/admin/products', { ...admin, body: newProduct })).status).toBe(201);
    expect((await h.request('GET', `/api/products/${lost}`)).status).toBe(200);
    expect((await h.request('DELETE', `/api/admin/webhook-endpoints/${kept.id}`, admin)).status).toBe(204);
  });

  it('an endpoint deletion refused past the deadline leaves the products writing its hold notices', async () => {
    const pid = await h.createProduct({ stock: 1 });
    const kept = await body(h.request('POST', '/api/admin/webhook-endpoints', { token: ADMIN_TOKEN, body: { url: 'http://127.0.0.1:9/kept', events: ['hold.created'] } }), CreatedWebhookEndpoint);
    const holdEvents = () => h.redis.hget(h.runtime.engine.ctx.keys.product(pid).product, 'hold_events');
    expect(await holdEvents()).toBe('1');
    proxy.setDelay(2_000);
    try {
      expect((await h.request('DELETE', `/api/admin/webhook-endpoints/${kept.id}`, { token: ADMIN_TOKEN })).status).toBe(503);
    } finally {
      proxy.setDelay(0);
    }
    // the deletion went on, switched the products' hold notices off, and then rolled back
    await settled();
    expect(await h.sql`SELECT id FROM webhook_endpoints WHERE id = ${kept.id}`).toEqual([{ id: kept.id }]);
    await expect.poll(holdEvents).toBe('1');
    expect((await h.request('DELETE', `/api/admin/webhook-endpoints/${kept.id}`, { token: ADMIN_TOKEN })).status).toBe(204);
  });

  it('answers a change that committed as made, also when its Redis write then waits past the deadline', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 700 });
    const { products } = h.runtime.engine;
    const load = products.load;
    let release = () => {};
    let holder: Promise<unknown> | undefined;
    // while the change holds the product's row, another transaction (a reconcile, another change) queues
    // for it, and then holds it past the deadline
    products.load = async (db, row, committed) => {
      await load.call(products, db, row, committed);
      if (holder) return;
      const held = new Promise<void>((resolve) => (release = resolve));
      holder = h.sql.begin(async (tx) => {
        await tx`SELECT 1 FROM products WHERE id = ${pid} FOR UPDATE`;
        await held;
      });
      await expect.poll(lockWaiters).toBe(1);
    };
    try {
      const res = await h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 2, unit_price_minor: 500 } });
      expect(res.status).toBe(200);
      expect(await lockWaiters()).toBe(1);
    } finally {
      release();
      Object.assign(products, { load });
      await holder;
    }
    expect(await h.sql`SELECT stock, unit_price_minor::int AS price FROM products WHERE id = ${pid}`).toEqual([{ stock: 2, price: 500 }]);
    // the Redis write went on, and landed once the row was free
    await expect.poll(async () => (await body(h.request('GET', `/api/products/${pid}`), Product)).unit_price_minor).toBe(500);
    expect((await h.stock(pid)).total).toBe(2);
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
