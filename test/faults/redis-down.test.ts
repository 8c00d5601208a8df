import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../../src/tools/redis-server.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, rawRedis, type Harness } from '../support/harness.js';
import { CreatedWebhookEndpoint, Hold, Problem, WebhookEndpointList } from '../../src/contract.js';
import { answer, body } from '../support/answers.js';

test.override('engineEnv', ({ privateRedis }) => ({ REDIS_URL: privateRedis.url }));
let redis: RedisServer;
let h: Harness;
test.beforeAll(({ privateRedis, harness }) => {
  redis = privateRedis;
  h = harness;
});
// the tests stop Redis: it must be back before the engine closes
test.afterAll(() => redis.start());

const hold = (pid: string, user: string) => h.request('POST', '/api/holds', { token: h.token(user), body: { product_id: pid, qty: 1 } });

describe('Redis down', () => {
  it('answers 503 unavailable with Retry-After at once, never hangs, and recovers by itself', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const before = await hold(pid, 'before');
    expect(before.status).toBe(201);
    const beforeId = (await body(before, Hold)).id;
    // the sweep records how far the product's ids have gone
    await h.runtime.engine.sweep.run();

    await redis.kill();
    const started = Date.now();
    const res = await hold(pid, 'during');
    const elapsed = Date.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('retry-after')).toBe('1');
    expect((await body(res, Problem)).code).toBe('unavailable');
    expect(elapsed).toBeLessThan(3000);
    expect((await h.request('GET', `/api/products/${pid}`)).status).toBe(503);
    expect((await h.request('GET', '/health/ready')).status).toBe(503);
    expect((await h.request('GET', '/health/live')).status).toBe(200);

    // back, empty (no persistence): the engine reconnects and reloads the product from Postgres
    await redis.start();
    let after: Response | undefined;
    await expect.poll(async () => (after = await hold(pid, 'after')).status, { timeout: 10_000, interval: 200 }).toBe(201);
    expect(await h.stock(pid)).toEqual({ total: 10, available: 9, held: 1, pending_payment: 0, sold: 0 });
    // the emptied Redis hands out ids far beyond any it handed out before
    const afterId = (await body(after!, Hold)).id;
    expect(Number(afterId.split('_')[1])).toBeGreaterThan(Number(beforeId.split('_')[1]) + 10_000_000);
    expect((await h.sql`SELECT seq_high_water FROM products WHERE id = ${pid}`)[0]!.seq_high_water).toBe(beforeId.split('_')[1]);
    await expect.poll(async () => (await h.request('GET', '/health/ready')).status, { timeout: 10_000 }).toBe(200);
  });

  it('a webhook endpoint refused with 503 is not registered: nobody got its secret', async () => {
    const endpoints = async () => (await body(h.request('GET', '/api/admin/webhook-endpoints', { token: ADMIN_TOKEN }), WebhookEndpointList)).endpoints;
    const before = await endpoints();
    await redis.kill();
    try {
      // hold events: every product in Redis must be told to write hold notices
      const res = await h.request('POST', '/api/admin/webhook-endpoints', { token: ADMIN_TOKEN, body: { url: 'https://example.com/hooks', events: ['hold.created'] } });
      expect(await answer(res, Problem)).toMatchObject({ status: 503, body: { code: 'unavailable' } });
      expect(await endpoints()).toEqual(before);
    } finally {
      await redis.start();
    }
  });

  it('a webhook endpoint whose deletion is refused with 503 is still there, and still kept to by the products', async () => {
    // (Redis was restarted just before: the engine reconnects by itself)
    await expect.poll(async () => (await h.request('GET', '/health/ready')).status, { timeout: 10_000, interval: 200 }).toBe(200);
    const pid = await h.createProduct({ stock: 10 });
    const created = await answer(h.request('POST', '/api/admin/webhook-endpoints', { token: ADMIN_TOKEN, body: { url: 'https://example.com/hooks', events: ['hold.created'] } }), CreatedWebhookEndpoint);
    expect(created.status).toBe(201);
    const { id } = created.body;
    await redis.kill();
    try {
      const res = await h.request('DELETE', `/api/admin/webhook-endpoints/${id}`, { token: ADMIN_TOKEN });
      expect(await answer(res, Problem)).toMatchObject({ status: 503, body: { code: 'unavailable' } });
      expect((await h.request('GET', `/api/admin/webhook-endpoints/${id}`, { token: ADMIN_TOKEN })).status).toBe(200);
    } finally {
      await redis.start();
    }
    // (an emptied Redis: the product is loaded again from Postgres, with the endpoint's subscription)
    await expect.poll(async () => (await hold(pid, 'after')).status, { timeout: 10_000, interval: 200 }).toBe(201);
    const raw = rawRedis(redis.url);
    const holdEvents = () => raw.hget(h.runtime.engine.ctx.keys.product(pid).product, 'hold_events');
    try {
      expect(await holdEvents()).toBe('1');
      expect((await h.request('DELETE', `/api/admin/webhook-endpoints/${id}`, { token: ADMIN_TOKEN })).status).toBe(204);
      expect(await holdEvents()).toBe('');
    } finally {
      raw.disconnect();
    }
  });
});

describe('Redis refusing writes', () => {
  it('at maxmemory (the engine requires noeviction): 503 unavailable with Retry-After, nothing changed, writes go through once it has room', async () => {
    const pid = await h.createProduct({ stock: 10 });
    expect((await hold(pid, 'before')).status).toBe(201);
    const admin = rawRedis(redis.url);
    try {
      await admin.config('SET', 'maxmemory', '1');
      for (const res of [await hold(pid, 'full'), await h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 20 } })]) {
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toBe('1');
        expect((await body(res, Problem)).code).toBe('unavailable');
      }
      expect(await h.stock(pid)).toEqual({ total: 10, available: 9, held: 1, pending_payment: 0, sold: 0 });
    } finally {
      await admin.config('SET', 'maxmemory', '0');
      admin.disconnect();
    }
    expect((await hold(pid, 'after')).status).toBe(201);
    expect(await h.stock(pid)).toEqual({ total: 10, available: 8, held: 2, pending_payment: 0, sold: 0 });
  });
});
