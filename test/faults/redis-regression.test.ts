import { cpSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { describe, expect, inject, it } from 'vitest';
import { createProduct } from '../../bench/lib/engine-api.js';
import { AcknowledgedWrites } from '../../loadtests/lib/acknowledged-writes.js';
import { signJwt } from '../../src/http/jwt.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import { startRedisServer, type RedisServer } from '../../src/tools/redis-server.js';

/**
 * Redis behind Postgres, with real processes: an engine (API and worker) under the mixed load of the
 * acknowledged-writes checker while its private Redis loses everything, or comes back from an older
 * copy of its AOF. Afterwards no id went to two customers, no order row was folded into another, every
 * acknowledged payment left its order paid (or is visibly owed back), and reconcile finds no drift.
 */

const CUSTOMERS = 8;
const READY_TIMEOUT_MS = 20_000;
const SETTLE_TIMEOUT_MS = 30_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function startEngine(redis: RedisServer): Promise<EngineProcess> {
  return startEngineProcess({
    redisUrl: redis.url,
    postgresUrl: inject('postgresUrl'),
    env: { RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: 'error', SWEEP_INTERVAL_MS: '1000', PAYMENT_TTL_MS: '60000' },
  });
}

async function ready(engine: EngineProcess): Promise<void> {
  await expect
    .poll(async () => (await fetch(`${engine.url}/health/ready`).catch(() => null))?.status, { timeout: READY_TIMEOUT_MS, interval: 100 })
    .toBe(200);
}

async function call(engine: EngineProcess, method: string, path: string, opts: { token?: string; body?: string; headers?: Record<string, string> } = {}) {
  const res = await fetch(engine.url + path, {
    method,
    headers: { 'content-type': 'application/json', ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}), ...opts.headers },
    body: opts.body,
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** Pending orders, one per customer, left for Postgres to record: what must still be payable after the loss. */
async function pendingOrders(engine: EngineProcess, productId: string, n: number) {
  const orders: { id: string; holdId: string; total: number; token: string }[] = [];
  for (let i = 0; i < n; i++) {
    const token = signJwt(engine.jwtSecret, { sub: `pending-${productId}-${i}`, exp: Math.floor(Date.now() / 1000) + 3600 });
    const hold = await call(engine, 'POST', '/api/holds', { token, body: JSON.stringify({ product_id: productId, qty: 1 }) });
    const order = await call(engine, 'POST', '/api/orders', { token, body: JSON.stringify({ hold_id: hold.body.id }) });
    orders.push({ id: String(order.body.id), holdId: String(hold.body.id), total: Number(order.body.total_minor), token });
  }
  return orders;
}

function pay(engine: EngineProcess, holdId: string, total: number) {
  const raw = JSON.stringify({ event_id: `evt-${holdId}`, type: 'payment.succeeded', hold_id: holdId, amount_minor: total, currency: 'EUR' });
  return call(engine, 'POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(engine.webhookSecret, raw) } });
}

/** After the load: the checker's verdict, no folded rows, and a reconcile without drift. */
async function settled(engine: EngineProcess, writes: AcknowledgedWrites, productIds: string[]): Promise<void> {
  expect(writes.acknowledged).toBeGreaterThan(0);
  const sql = postgres(engine.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    // the sweep applies what the inbox holds and Redis lost, or marks it refund_required
    await expect
      .poll(async () => (await sql`SELECT count(*)::int AS n FROM payment_inbox WHERE result IS NULL OR result = 'deferred'`)[0]!.n, { timeout: SETTLE_TIMEOUT_MS, interval: 500 })
      .toBe(0);
    expect(await writes.verify({ redisLost: true })).toEqual([]);
    expect(await sql`SELECT order_id FROM order_conflicts WHERE product_id IN ${sql(productIds)}`).toEqual([]);
  } finally {
    await sql.end();
  }
  await expect
    .poll(async () => {
      const report = await call(engine, 'POST', '/api/admin/reconcile?dry_run=true', { token: engine.adminToken });
      const products = (report.body.products as { product_id: string; drift: string[]; oversell_risk: boolean }[]).filter((p) => productIds.includes(p.product_id));
      return products.map((p) => ({ drift: p.drift, oversell: p.oversell_risk }));
    }, { timeout: SETTLE_TIMEOUT_MS, interval: 500 })
    .toEqual(productIds.map(() => ({ drift: [], oversell: false })));
}

describe('Redis behind Postgres is detected and rebuilt from Postgres', () => {
  it('after a total loss (FLUSHALL mid-load) every acknowledged payment is applied, pending orders can be paid, nothing is oversold', async () => {
    const redis = await startRedisServer();
    const engine = await startEngine(redis);
    try {
      const productIds = await Promise.all([1, 2].map((n) => createProduct(engine, `loss-${n}`, 1_000_000)));
      const pendingProduct = await createProduct(engine, 'loss-pending', 10);
      const pending = await pendingOrders(engine, pendingProduct, 5);
      const writes = new AcknowledgedWrites(engine, productIds);
      const load = writes.run(CUSTOMERS);
      try {
        // the pending orders and the load's first writes reach Postgres before Redis loses everything
        await sleep(2500);
        const admin = new Redis(redis.url);
        try {
          await admin.flushall();
        } finally {
          admin.disconnect();
        }
        await sleep(2500);
      } finally {
        writes.stop();
        await load;
      }
      // a payment for an order pending before the loss applies: the order is back, not 404
      for (const o of pending) {
        const paid = await pay(engine, o.holdId, o.total);
        expect(paid.status, JSON.stringify(paid.body)).toBe(200);
        expect(paid.body).toMatchObject({ result: 'applied', order_status: 'paid' });
      }
      await settled(engine, writes, [...productIds, pendingProduct]);
    } finally {
      await engine.stop();
      await redis.stop();
    }
  });

  it('Redis restarted from an older copy of its AOF mid-load: no id handed out twice, no row folded, paid stays paid', async () => {
    const redis = await startRedisServer({ config: { appendonly: 'yes', appendfsync: 'everysec' } });
    const engine = await startEngine(redis);
    const aof = path.join(redis.dir, 'appendonlydir');
    const copy = path.join(redis.dir, 'older-copy');
    try {
      const productIds = await Promise.all([1, 2].map((n) => createProduct(engine, `older-${n}`, 1_000_000)));
      const writes = new AcknowledgedWrites(engine, productIds);
      const load = writes.run(CUSTOMERS);
      try {
        await sleep(1500);
        cpSync(aof, copy, { recursive: true });
        // selling goes on: ids, orders and payments the copy does not have reach Postgres
        await sleep(3000);
        await redis.kill();
        rmSync(aof, { recursive: true });
        cpSync(copy, aof, { recursive: true });
        await redis.start();
        await ready(engine);
        await sleep(2500);
      } finally {
        writes.stop();
        await load;
      }
      await settled(engine, writes, productIds);
    } finally {
      await engine.stop();
      await redis.stop();
    }
  });
});
