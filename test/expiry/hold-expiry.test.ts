import { describe, expect, it } from 'vitest';
import { test } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';
import { Hold, type HoldStatus } from '../../src/contract.js';
import { body } from '../support/answers.js';

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
    await Promise.all([engine.expiry.holds(pid), engine.sweep.run(), engine.expiry.holds(pid), engine.sweep.run(), engine.expiry.holds(pid)]);
    expect(await h.stock(pid)).toEqual({ total: 60, available: 60, held: 0, pending_payment: 0, sold: 0 });
    expect(await h.redis.hlen(engine.ctx.keys.product(pid).used)).toBe(0);
    const statuses = await Promise.all(ids.map((id, i) => holdStatus(h, id, `user-${i}`)));
    expect(new Set(statuses)).toEqual(new Set(['expired']));
    // the delayed job fires afterwards and finds nothing left to return
    await sleep(1500);
    expect(await h.stock(pid)).toEqual({ total: 60, available: 60, held: 0, pending_payment: 0, sold: 0 });
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
    const delayed = (await queue.getDelayed()).filter((j) => j.name === 'expire-holds' && j.data.productId === pid);
    expect(delayed.length).toBeGreaterThan(0);
    for (const job of delayed) await job.remove();
    expect(await h.stock(pid)).toMatchObject({ available: 0, held: 4 });
    await expect.poll(() => h.stock(pid), { timeout: 8000, interval: 200 }).toEqual({ total: 4, available: 4, held: 0, pending_payment: 0, sold: 0 });
  });
});
