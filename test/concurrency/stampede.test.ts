import { describe, expect, it } from 'vitest';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, type Harness } from '../support/harness.js';
import { AdminProduct, Hold, Problem } from '../../src/contract.js';
import { body } from '../support/answers.js';
import { sampleWhileRunning } from '../support/sampler.js';

/** Real parallel HTTP requests over sockets against a listening engine. */
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

function postHold(token: string, productId: string, key?: string): Promise<Response> {
  return fetch(`${h.url}/api/holds`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify({ product_id: productId, qty: 1 }),
  });
}

/** Samples the product's counters until stopped; every sample must satisfy the invariant. */
function sampleInvariant(productId: string) {
  const key = h.runtime.engine.ctx.keys.product(productId).product;
  return sampleWhileRunning(async () => {
    const [total, available, held, pending, sold] = (await h.redis.hmget(key, 'total', 'available', 'held', 'pending', 'sold')).map(Number);
    const broken = available! < 0 || held! < 0 || total !== available! + held! + pending! + sold!;
    return broken ? `total=${total} available=${available} held=${held} pending=${pending} sold=${sold}` : undefined;
  });
}

describe('stampede on a small stock', () => {
  it('2,000 parallel holds from distinct users on stock 100: exactly 100 win, 1,900 insufficient_stock, never oversold', async () => {
    const pid = await h.createProduct({ stock: 100 });
    const tokens = Array.from({ length: 2000 }, (_, i) => h.token(`stampede-${i}`));
    const sampler = sampleInvariant(pid);
    // the sampler stops even when a request fails, so it never outlives the test
    const responses = await Promise.all(tokens.map((t) => postHold(t, pid))).finally(() => sampler.stop());
    const { samples, violations } = await sampler.stop();
    const holds = await Promise.all(responses.filter((r) => r.status === 201).map((r) => body(r, Hold)));
    const problems = await Promise.all(responses.filter((r) => r.status !== 201).map((r) => body(r, Problem)));

    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(100);
    expect(statuses.filter((s) => s === 409)).toHaveLength(1900);
    expect(problems.filter((b) => b.code === 'insufficient_stock')).toHaveLength(1900);
    expect(new Set(holds.map((b) => b.id)).size).toBe(100);
    expect(samples).toBeGreaterThan(10);
    expect(violations).toEqual([]);
    expect(await h.stock(pid)).toEqual({ total: 100, available: 0, held: 100, pending_payment: 0, sold: 0 });
  });

  it('100 parallel requests with one Idempotency-Key make one hold; all answer it', async () => {
    const pid = await h.createProduct({ stock: 50 });
    const token = h.token('impatient-user');
    const responses = await Promise.all(Array.from({ length: 100 }, () => postHold(token, pid, 'double-click-123')));
    const bodies = await Promise.all(responses.map((r) => body(r, Hold)));
    expect(responses.every((r) => r.status === 201)).toBe(true);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(99);
    expect(await h.stock(pid)).toMatchObject({ available: 49, held: 1 });
  });

  it('the in-process sold-out shortcut never turns a replay of a won hold into a 409', async () => {
    const pid = await h.createProduct({ stock: 1 });
    const winner = h.token('winner');
    const won = await postHold(winner, pid, 'winning-key');
    expect(won.status).toBe(201);
    // sold out now: these answer 409 and arm the shortcut
    const losers = await Promise.all(Array.from({ length: 20 }, (_, i) => postHold(h.token(`late-${i}`), pid)));
    expect(losers.every((r) => r.status === 409)).toBe(true);
    const replay = await postHold(winner, pid, 'winning-key');
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await body(replay, Hold)).id).toBe((await body(won, Hold)).id);
  });

  it('the sold-out shortcut answers exactly what Redis answered', async () => {
    const pid = await h.createProduct({ stock: 0 });
    // the first request asks Redis and arms the shortcut; the next ones, within its 100 ms, are answered without Redis
    const first = await postHold(h.token('first-late'), pid);
    expect(h.runtime.engine.holds.knownSoldOut(pid, undefined)).toBe(true);
    const next = await Promise.all(Array.from({ length: 5 }, (_, i) => postHold(h.token(`next-late-${i}`), pid)));
    const answers = [first, ...next];
    expect(answers.map((r) => r.status)).toEqual(Array(6).fill(409));
    expect(new Set(answers.map((r) => r.headers.get('content-type')))).toEqual(new Set(['application/problem+json']));
    const bodies = await Promise.all(answers.map((r) => body(r, Problem)));
    expect(bodies[0]).toEqual({
      type: 'urn:flash-sale:problem:insufficient_stock',
      title: expect.any(String),
      status: 409,
      detail: 'only 0 available',
      code: 'insufficient_stock',
      available: 0,
    });
    for (const b of bodies.slice(1)) expect(b).toEqual(bodies[0]);
  });

  it('many users racing to the per-user limit never pass it', async () => {
    const pid = await h.createProduct({ stock: 1000, per_user_limit: 3 });
    const users = Array.from({ length: 20 }, (_, i) => h.token(`limited-${i}`));
    const responses = await Promise.all(users.flatMap((t) => Array.from({ length: 10 }, () => postHold(t, pid))));
    expect(responses.filter((r) => r.status === 201)).toHaveLength(60);
    const used = await h.redis.hvals(h.runtime.engine.ctx.keys.product(pid).used);
    expect(used.map(Number)).toEqual(Array(20).fill(3));
    const res = await fetch(`${h.url}/api/admin/products/${pid}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
    expect((await body(res, AdminProduct)).stock.held).toBe(60);
  });
});
