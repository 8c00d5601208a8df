import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { AdminProduct, HealthReady, Hold, Order, Problem, Product, ReconcileReport } from '../../src/contract.js';
import { body } from '../support/answers.js';

let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const admin = (method: string, path: string, payload?: unknown) => h.request(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body: payload });

async function holdAndOrder(pid: string, user: string, qty: number) {
  const token = h.token(user);
  const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty } }), Hold);
  const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
  return { hold, order, token };
}

describe('admin products', () => {
  it('creates a product in Postgres and Redis; the public view shows it', async () => {
    const res = await admin('POST', '/products', {
      name: 'Drop', unit_price_minor: 4999, currency: 'USD', stock: 7, per_user_limit: 2,
      sale_starts_at: '2020-01-01T00:00:00Z', sale_ends_at: '2099-01-01T00:00:00Z',
    });
    expect(res.status).toBe(201);
    const created = await body(res, AdminProduct);
    expect(created.stock).toEqual({ total: 7, available: 7, held: 0, pending_payment: 0, sold: 0 });
    const pub = await body(h.request('GET', `/api/products/${created.id}`), Product);
    expect(pub).toEqual({
      id: created.id, name: 'Drop', unit_price_minor: 4999, currency: 'USD', available: 7,
      sale_starts_at: '2020-01-01T00:00:00.000Z', sale_ends_at: '2099-01-01T00:00:00.000Z', per_user_limit: 2,
    });
    const [row] = await h.sql`SELECT name, stock, per_user_limit FROM products WHERE id = ${created.id}`;
    expect(row).toEqual({ name: 'Drop', stock: 7, per_user_limit: 2 });
    expect((await admin('POST', '/products', { id: created.id, name: 'Again', unit_price_minor: 1, currency: 'USD', stock: 1 })).status).toBe(409);
  });

  it('a price change never touches existing holds or orders', async () => {
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 1000 });
    const first = await holdAndOrder(pid, 'early', 1);
    const { id: lateHold } = await body(h.request('POST', '/api/holds', { token: h.token('late'), body: { product_id: pid, qty: 2 } }), Hold);
    expect((await admin('PATCH', `/products/${pid}`, { unit_price_minor: 5000 })).status).toBe(200);
    const late = await body(h.request('POST', '/api/orders', { token: h.token('late'), body: { hold_id: lateHold } }), Order);
    expect(first.order.total_minor).toBe(1000);
    expect(late).toMatchObject({ unit_price_minor: 1000, total_minor: 2000 });
    const after = await holdAndOrder(pid, 'after', 1);
    expect(after.order.total_minor).toBe(5000);
  });

  it('restocks, refuses to lower stock below held + pending + sold, and keeps counters', async () => {
    const pid = await h.createProduct({ stock: 5 });
    await holdAndOrder(pid, 'buyer', 3);
    expect((await body(admin('PATCH', `/products/${pid}`, { stock: 8 }), AdminProduct)).stock).toEqual({
      total: 8, available: 5, held: 0, pending_payment: 3, sold: 0,
    });
    const refused = await admin('PATCH', `/products/${pid}`, { stock: 2 });
    expect(refused.status).toBe(409);
    expect((await body(refused, Problem)).code).toBe('stock_below_committed');
    expect(await h.stock(pid)).toEqual({ total: 8, available: 5, held: 0, pending_payment: 3, sold: 0 });
    expect((await h.sql`SELECT stock FROM products WHERE id = ${pid}`)[0]!.stock).toBe(8);
  });

  it('reloading products into Redis (a restart) never resurrects held or sold stock', async () => {
    const pid = await h.createProduct({ stock: 6 });
    await holdAndOrder(pid, 'x', 2);
    await h.request('POST', '/api/holds', { token: h.token('y'), body: { product_id: pid, qty: 1 } });
    await h.runtime.engine.recovery.checkAll();
    expect(await h.stock(pid)).toEqual({ total: 6, available: 3, held: 1, pending_payment: 2, sold: 0 });
  });

  it('refuses a change that would leave the sale window ending before it starts, naming the field', async () => {
    const pid = await h.createProduct({ sale_starts_at: '2030-01-01T00:00:00Z' });
    const res = await admin('PATCH', `/products/${pid}`, { sale_ends_at: '2029-01-01T00:00:00Z' });
    expect(res.status).toBe(400);
    expect(await body(res, Problem)).toMatchObject({ code: 'invalid_request', errors: [{ path: 'sale_ends_at', message: 'must be after sale_starts_at' }] });
    expect((await h.sql`SELECT sale_ends_at FROM products WHERE id = ${pid}`)[0]!.sale_ends_at).toBeNull();
  });

  it('an operator can release anyone\'s hold', async () => {
    const pid = await h.createProduct({ stock: 2 });
    const hold = await body(h.request('POST', '/api/holds', { token: h.token('someone'), body: { product_id: pid, qty: 2 } }), Hold);
    const res = await admin('DELETE', `/holds/${hold.id}`);
    expect(res.status).toBe(200);
    expect((await body(res, Hold)).status).toBe('released');
    expect(await h.stock(pid)).toMatchObject({ available: 2, held: 0 });
  });
});

describe('reconcile', () => {
  it('reports no drift on a healthy product, then repairs counter drift the records explain', async () => {
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 700 });
    const { hold, order } = await holdAndOrder(pid, 'r1', 2);
    const raw = JSON.stringify({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: hold.id, amount_minor: order.total_minor, currency: 'EUR' });
    await h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
    await expect.poll(async () => (await h.sql`SELECT status FROM orders WHERE id = ${order.id}`)[0]?.status, { timeout: 10_000 }).toBe('paid');

    const clean = await body(admin('POST', '/reconcile'), ReconcileReport);
    const mine = clean.products.find((p) => p.product_id === pid)!;
    expect(mine).toMatchObject({ drift: [], oversell_risk: false });

    // a leak: the held counter says 3 units that no hold record explains
    const key = h.runtime.engine.ctx.keys.product(pid).product;
    await h.redis.hincrby(key, 'held', 3);
    await h.redis.hincrby(key, 'available', -3);
    const dry = await body(admin('POST', '/reconcile?dry_run=true'), ReconcileReport);
    expect(dry.products.find((p) => p.product_id === pid)!.drift).toEqual(['held counter 3 != 0 in active holds']);
    expect(await h.stock(pid)).toMatchObject({ available: 5, held: 3 });
    // a report asked for in another spelling is refused, not taken for a repair
    for (const flag of ['1', 'yes', 'TRUE']) {
      const res = await admin('POST', `/reconcile?dry_run=${flag}`);
      expect(res.status).toBe(400);
      expect(await body(res, Problem)).toMatchObject({ code: 'invalid_request', errors: [{ path: 'dry_run' }] });
    }
    expect(await h.stock(pid)).toMatchObject({ available: 5, held: 3 });
    const fixed = await body(admin('POST', '/reconcile'), ReconcileReport);
    expect(fixed.products.find((p) => p.product_id === pid)!.repaired).toEqual(['held/pending/available counters set from the records']);
    expect(await h.stock(pid)).toEqual({ total: 10, available: 8, held: 0, pending_payment: 0, sold: 2 });
  });

  it('reports a Postgres total below what Redis holds, pending or sold as oversell risk, and repairs the other products', async () => {
    const pid = await h.createProduct({ stock: 10 });
    await holdAndOrder(pid, 'before-restore', 8);
    const other = await h.createProduct({ stock: 4 });
    // Postgres put back to an older copy of the row, and another product's total that Redis lost
    await h.sql`UPDATE products SET stock = 5 WHERE id = ${pid}`;
    await h.sql`UPDATE products SET stock = 6 WHERE id = ${other}`;
    const res = await admin('POST', '/reconcile');
    expect(res.status).toBe(200);
    const report = await body(res, ReconcileReport);
    expect(report.oversell_risk).toBe(true);
    const restored = report.products.find((p) => p.product_id === pid)!;
    expect(restored).toMatchObject({ drift: ['total 10 in Redis != 5 in Postgres'], oversell_risk: true });
    expect(restored.repaired).not.toContain('total reloaded from Postgres');
    expect(await h.stock(pid)).toEqual({ total: 10, available: 2, held: 0, pending_payment: 8, sold: 0 });
    expect(report.products.find((p) => p.product_id === other)).toMatchObject({ repaired: ['total reloaded from Postgres'], oversell_risk: false });
    expect(await h.stock(other)).toMatchObject({ total: 6, available: 6 });
  });

  it('reports and repairs a change Postgres committed and Redis never got: price and sale window', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 1000 });
    // a PATCH whose write to Redis failed after its commit
    await h.sql`UPDATE products SET unit_price_minor = 5000, sale_ends_at = '2021-01-01T00:00:00Z' WHERE id = ${pid}`;
    const dry = await body(admin('POST', '/reconcile?dry_run=true'), ReconcileReport);
    expect(dry.products.find((p) => p.product_id === pid)!.drift).toEqual(['price, ends_at in Redis != Postgres']);
    const fixed = await body(admin('POST', '/reconcile'), ReconcileReport);
    expect(fixed.products.find((p) => p.product_id === pid)!.repaired).toEqual(['settings reloaded from Postgres']);
    expect(await body(h.request('GET', `/api/products/${pid}`), Product)).toMatchObject({ unit_price_minor: 5000, sale_ends_at: '2021-01-01T00:00:00.000Z' });
    const late = await h.request('POST', '/api/holds', { token: h.token('late'), body: { product_id: pid, qty: 1 } });
    expect((await body(late, Problem)).code).toBe('sale_ended');
  });

  it('flags oversell risk for a human instead of guessing', async () => {
    const pid = await h.createProduct({ stock: 3 });
    await h.redis.hincrby(h.runtime.engine.ctx.keys.product(pid).product, 'sold', 5);
    const report = await body(admin('POST', '/reconcile?dry_run=true'), ReconcileReport);
    expect(report.oversell_risk).toBe(true);
    expect(report.products.find((p) => p.product_id === pid)!.oversell_risk).toBe(true);
  });
});

describe('operations', () => {
  it('/metrics exposes latency histograms, hold outcomes, stock gauges and queue depths', async () => {
    const metric = async (series: string) => {
      const text = await (await h.request('GET', '/metrics')).text();
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line ? Number(line.slice(series.length + 1)) : 0;
    };
    const series = {
      created: 'holds_created_total',
      rejected: 'holds_rejected_total{code="insufficient_stock"}',
      ok: 'http_request_duration_seconds_count{method="POST",route="/api/holds",status="201"}',
      conflict: 'http_request_duration_seconds_count{method="POST",route="/api/holds",status="409"}',
    };
    const before = Object.fromEntries(await Promise.all(Object.entries(series).map(async ([k, s]) => [k, await metric(s)])));
    const pid = await h.createProduct({ stock: 1 });
    const statuses: number[] = [];
    // the second is refused by Redis, the third by the in-process sold-out shortcut: both are counted
    for (const user of ['m1', 'm2', 'm3']) statuses.push((await h.request('POST', '/api/holds', { token: h.token(user), body: { product_id: pid, qty: 1 } })).status);
    expect(statuses).toEqual([201, 409, 409]);
    const after = Object.fromEntries(await Promise.all(Object.entries(series).map(async ([k, s]) => [k, await metric(s)])));
    expect({ created: after.created - before.created, rejected: after.rejected - before.rejected, ok: after.ok - before.ok, conflict: after.conflict - before.conflict })
      .toEqual({ created: 1, rejected: 2, ok: 1, conflict: 2 });
    const text = await (await h.request('GET', '/metrics')).text();
    expect(text).toMatch(/http_request_duration_seconds_bucket\{method="POST",route="\/api\/holds",status="201",le="0.005"\} \d+/);
    expect(text).toContain(`product_stock_units{product="${pid}",state="held"} 1`);
    expect(text).toMatch(/queue_jobs\{queue="persist",state="failed"\} \d+/);
  });

  it('/health/ready checks Redis, Postgres and the queues', async () => {
    const res = await h.request('GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(await body(res, HealthReady)).toEqual({ status: 'ok', checks: { redis: 'ok', postgres: 'ok', queues: 'ok' } });
  });
});
