import { describe, expect, it } from 'vitest';
import { test } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { Hold, Problem, type HoldStatus } from '../../src/contract.js';
import { answer, body } from '../support/answers.js';

const TTL_MS = 800;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function placeHolds(h: Harness, pid: string, n: number, qty = 1): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await h.request('POST', '/api/holds', { token: h.token(`user-${i}`), body: { product_id: pid, qty } });
    expect(res.status).toBe(201);
    ids.push((await body(res, Hold)).id);
  }
  return ids;
}

async function holdStatus(h: Harness, id: string, user: string): Promise<HoldStatus> {
  const res = await h.request('GET', `/api/holds/${id}`, { token: h.token(user) });
  return (await body(res, Hold)).status;
}

describe('hold expiry by the per-second delayed job (sweep far away)', () => {
  let h: Harness;
  test.beforeAll(async ({ startEngine }) => {
    h = await startEngine({ HOLD_TTL_MS: String(TTL_MS), SWEEP_INTERVAL_MS: '600000' });
  });

  it('returns the stock when the hold expires', async () => {
    const pid = await h.createProduct({ stock: 5 });
    const [id] = await placeHolds(h, pid, 1, 3);
    expect(await h.stock(pid)).toMatchObject({ available: 2, held: 3 });
    await expect.poll(() => h.stock(pid), { timeout: 5000, interval: 100 }).toEqual({ total: 5, available: 5, held: 0, pending_payment: 0, sold: 0 });
    expect(await holdStatus(h, id!, 'user-0')).toBe('expired');
  });

  it('expiry, sweep and extra expiry runs all firing at once return each hold exactly once', async () => {
    const pid = await h.createProduct({ stock: 60 });
    const ids = await placeHolds(h, pid, 50);
    await sleep(TTL_MS + 50);
    const { engine } = h.runtime;
    await Promise.all([engine.expiry.holdsOf([pid]), engine.sweep.run(), engine.expiry.holdsOf([pid]), engine.sweep.run(), engine.expiry.holdsOf([pid])]);
    expect(await h.stock(pid)).toEqual({ total: 60, available: 60, held: 0, pending_payment: 0, sold: 0 });
    expect(await h.redis.hlen(engine.ctx.keys.product(pid).used)).toBe(0);
    const statuses = await Promise.all(ids.map((id, i) => holdStatus(h, id, `user-${i}`)));
    expect(new Set(statuses)).toEqual(new Set(['expired']));
    // the delayed job fires afterwards and finds nothing left to return
    await sleep(1500);
    expect(await h.stock(pid)).toEqual({ total: 60, available: 60, held: 0, pending_payment: 0, sold: 0 });
  });
});

describe('an expiry job run early by its host\'s clock', () => {
  let h: Harness;
  test.beforeAll(async ({ startEngine }) => {
    h = await startEngine({ HOLD_TTL_MS: '1500', SWEEP_INTERVAL_MS: '600000' });
  });

  it('waits for Redis\'s clock to reach its second, then expires the hold, which leaves the set', async () => {
    const pid = await h.createProduct({ stock: 1 });
    const res = await h.request('POST', '/api/holds', { token: h.token('early'), body: { product_id: pid, qty: 1 } });
    const hold = await body(res, Hold);
    const { jobs, keys, redis } = h.runtime.engine.ctx;
    const second = Math.ceil(Date.parse(hold.expires_at) / 1000);
    await expect.poll(() => redis.sismember(keys.dueProducts('expire-holds', second), pid), { timeout: 5_000, interval: 50 }).toBe(1);
    // the job of the hold's second, run now: as on a host whose clock is a second or more ahead of Redis's
    await jobs.runDueTogether('expire-holds', second, (ids) => h.runtime.engine.expiry.holdsOf(ids));
    const [nowSec] = await redis.time();
    expect(Number(nowSec)).toBeGreaterThanOrEqual(second);
    expect(await holdStatus(h, hold.id, 'early')).toBe('expired');
    expect(await h.stock(pid)).toMatchObject({ available: 1, held: 0 });
    expect(await redis.scard(keys.dueProducts('expire-holds', second))).toBe(0);
  });
});

describe('expiry jobs by the second, not by the product', () => {
  let h: Harness;
  test.beforeAll(async ({ startEngine }) => {
    // (long enough that the jobs are still waiting when they are read, on a slow machine too)
    h = await startEngine({ HOLD_TTL_MS: '8000', SWEEP_INTERVAL_MS: '600000' });
  });

  it('holds on 40 products placed at once share the job of their second, and every one expires', async () => {
    const pids = await Promise.all(Array.from({ length: 40 }, () => h.createProduct({ stock: 2 })));
    await Promise.all(pids.map((pid, i) => h.request('POST', '/api/holds', { token: h.token(`spread-${i}`), body: { product_id: pid, qty: 2 } })));
    const { queues, keys, redis } = h.runtime.engine.ctx;
    const expiryJobs = async () => (await queues.byName.expiry.getDelayed()).filter((j) => j.name === 'expire-holds');
    const dueProducts = async () => new Set((await Promise.all((await expiryJobs()).map((j) => redis.smembers(keys.dueProducts('expire-holds', j.data.second))))).flat());
    // the sets and jobs go to Redis just after the holds are answered
    await expect.poll(dueProducts, { timeout: 5_000, interval: 100 }).toEqual(new Set(pids));
    const jobs = await expiryJobs();
    // the holds expire within a second or two of each other: as many jobs, each naming its products
    expect(jobs.length).toBeLessThanOrEqual(3);
    await expect.poll(async () => (await Promise.all(pids.map((pid) => h.stock(pid)))).every((s) => s.available === 2), { timeout: 20_000, interval: 200 }).toBe(true);
    // each product leaves its second's set once its holds are expired
    await expect.poll(async () => (await Promise.all(jobs.map((j) => redis.scard(keys.dueProducts('expire-holds', j.data.second))))).every((n) => n === 0), { timeout: 5_000 }).toBe(true);
  });

  it('sends work due minutes ahead a little later, with what else came meanwhile, and all of it when asked (shutdown)', async () => {
    const { jobs, keys, redis } = h.runtime.engine.ctx;
    const [a, b, c] = [`later-a-${Date.now()}`, `later-b-${Date.now()}`, `later-c-${Date.now()}`];
    const due = Date.now() + 10 * 60_000;
    const sec = Math.ceil(due / 1000);
    const members = async () => new Set(await redis.smembers(keys.dueProducts('expire-holds', sec)));
    jobs.expireAt('expire-holds', a, due);
    await new Promise((r) => setImmediate(r));
    jobs.expireAt('expire-holds', b, due);
    await expect.poll(members, { timeout: 5_000, interval: 20 }).toEqual(new Set([a, b]));
    jobs.expireAt('expire-holds', c, due);
    await jobs.flush();
    expect(await members()).toEqual(new Set([a, b, c]));
    await redis.del(keys.dueProducts('expire-holds', sec));
  });
});

describe('the periodic sweep covers a lost expiry job', () => {
  let h: Harness;
  test.beforeAll(async ({ startEngine }) => {
    h = await startEngine({ HOLD_TTL_MS: String(TTL_MS), SWEEP_INTERVAL_MS: '2500' });
  });

  it('returns the stock even when the delayed job was removed', async () => {
    const pid = await h.createProduct({ stock: 4 });
    await placeHolds(h, pid, 2, 2);
    const queue = h.runtime.engine.ctx.queues.byName.expiry;
    const { keys, redis } = h.runtime.engine.ctx;
    // the jobs of the seconds the product's holds expire in (a job works on every product due in its second)
    const delayed = [];
    for (const j of await queue.getDelayed()) {
      if (j.name === 'expire-holds' && (await redis.sismember(keys.dueProducts('expire-holds', j.data.second), pid))) delayed.push(j);
    }
    expect(delayed.length).toBeGreaterThan(0);
    for (const job of delayed) await job.remove();
    expect(await h.stock(pid)).toMatchObject({ available: 0, held: 4 });
    await expect.poll(() => h.stock(pid), { timeout: 8000, interval: 200 }).toEqual({ total: 4, available: 4, held: 0, pending_payment: 0, sold: 0 });
  });
});

describe('a hold read once its time is up, before an expiry job has ended it', () => {
  let h: Harness;
  test.beforeAll(async ({ startEngine }) => {
    // no worker: no expiry job runs, and the sweep is far away
    h = await startEngine({ HOLD_TTL_MS: '300', SWEEP_INTERVAL_MS: '600000' }, { inProcess: true });
  });

  it('reads as expired, as the order route treats it, and its stock is back', async () => {
    const pid = await h.createProduct({ stock: 3 });
    const hold = await body(h.request('POST', '/api/holds', { token: h.token('late'), body: { product_id: pid, qty: 2 } }), Hold);
    await sleep(500);
    expect(await h.stock(pid)).toMatchObject({ available: 1, held: 2 });
    expect(await holdStatus(h, hold.id, 'late')).toBe('expired');
    expect(await h.stock(pid)).toMatchObject({ available: 3, held: 0 });
    const order = await answer(h.request('POST', '/api/orders', { token: h.token('late'), body: { hold_id: hold.id } }), Problem);
    expect({ status: order.status, code: order.body.code }).toEqual({ status: 410, code: 'hold_expired' });
    expect(await holdStatus(h, hold.id, 'late')).toBe('expired');
  });
});
