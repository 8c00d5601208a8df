import { describe, expect, it } from 'vitest';
import { test } from '../support/fixtures.js';
import { type Harness } from '../support/harness.js';
import { Hold, Order } from '../../src/contract.js';
import { body } from '../support/answers.js';

/** A record Postgres refuses must not hold back the rest of its batch. */
test.override('engineEnv', { SWEEP_INTERVAL_MS: '600000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

describe('persistence with a record Postgres refuses', () => {
  it('writes the good records of the batch, keeps the bad one in the outbox for reconcile', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const orderIds: string[] = [];
    for (let i = 0; i < 5; i++) {
      const token = h.token(`isolated-${i}`);
      const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }), Hold);
      orderIds.push((await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order)).id);
    }
    await expect.poll(async () => (await h.sql`SELECT count(*)::int AS n FROM orders`)[0]!.n, { timeout: 10_000 }).toBe(5);

    // corrupt one order in Redis the way nothing in the API can: a currency Postgres refuses (char(3))
    const k = h.runtime.engine.ctx.keys.product(pid);
    const badSeq = orderIds[2]!.split('_')[1]!;
    await h.redis.hset(k.orders, badSeq, (await h.redis.hget(k.orders, badSeq))!.replace('"pending_payment"', '"paid"').replace('"EUR"', '"EURO"'));
    for (const id of orderIds) {
      const seq = id.split('_')[1]!;
      if (seq !== badSeq) await h.redis.hset(k.orders, seq, (await h.redis.hget(k.orders, seq))!.replace('"pending_payment"', '"paid"'));
    }
    await h.redis.sadd(k.outbox, ...orderIds.map((id) => id.split('_')[1]!));
    await h.runtime.engine.persistence.drain(pid);

    const statuses = Object.fromEntries((await h.sql`SELECT id, status FROM orders`).map((r) => [r.id, r.status]));
    expect(Object.values(statuses).filter((s) => s === 'paid')).toHaveLength(4);
    expect(statuses[orderIds[2]!]).toBe('pending_payment');
    expect(await h.redis.smembers(k.outbox)).toEqual([badSeq]);
  });
});
