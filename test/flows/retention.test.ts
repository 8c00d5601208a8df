import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { Hold, Order, PaymentOutcome, Problem } from '../../src/contract.js';
import { body } from '../support/answers.js';

/** Ended records leave Redis after their retention; Postgres answers for them from then on. */
test.override('engineEnv', { HOLD_TTL_MS: '300', PAYMENT_TTL_MS: '400', RECORD_RETENTION_MS: '500', SWEEP_INTERVAL_MS: '600000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('record retention', () => {
  it('drops ended holds, paid orders and their events from Redis once persisted, and answers from Postgres, a late failure too', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    const token = h.token('keeper');
    const abandoned = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }), Hold);
    const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
    const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
    const raw = JSON.stringify({ event_id: 'evt-retained', type: 'payment.succeeded', hold_id: hold.id, amount_minor: 600, currency: 'EUR' });
    const pay = () => h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
    expect((await body(pay(), PaymentOutcome)).result).toBe('applied');
    await expect.poll(async () => (await h.sql`SELECT status FROM orders WHERE id = ${order.id}`)[0]?.status, { timeout: 10_000 }).toBe('paid');
    await expect.poll(async () => (await h.sql`SELECT count(*)::int AS n FROM payment_events`)[0]!.n, { timeout: 10_000 }).toBe(1);

    const k = h.runtime.engine.ctx.keys.product(pid);
    // the paid order ends at its payment deadline (passed by now); then the retention passes
    await sleep(400);
    const first = await h.runtime.engine.sweep.run();
    await sleep(600);
    const second = await h.runtime.engine.sweep.run();
    // two holds, the order and its event
    expect(first.dropped + second.dropped).toBe(4);
    expect(await h.redis.hlen(k.holds)).toBe(0);
    expect(await h.redis.hlen(k.orders)).toBe(0);
    expect(await h.redis.hlen(k.events)).toBe(0);
    expect(await h.redis.llen(k.ended)).toBe(0);

    // Postgres answers for what Redis no longer has
    const got = await h.request('GET', `/api/orders/${order.id}`, { token });
    expect(got.status).toBe(200);
    expect(await body(got, Order)).toMatchObject({ id: order.id, status: 'paid', total_minor: 600, hold_id: hold.id });
    const again = await h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } });
    expect(again.status).toBe(200);
    expect((await body(again, Order)).id).toBe(order.id);
    expect((await body(pay(), PaymentOutcome)).result).toBe('duplicate');
    expect((await h.request('GET', `/api/holds/${abandoned.id}`, { token })).status).toBe(404);
    expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });

    // a failure sent late, after the success, changes nothing: answered ignored (not 404, which the
    // provider would retry), also when retried, and settled so in the inbox
    const failedRaw = JSON.stringify({ event_id: 'evt-late-failure', type: 'payment.failed', hold_id: hold.id, amount_minor: 600, currency: 'EUR' });
    const fail = () => h.request('POST', '/api/webhooks/payment', { body: failedRaw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, failedRaw) } });
    for (const _ of [1, 2]) expect(await body(fail(), PaymentOutcome)).toEqual({ result: 'ignored', order_id: order.id, order_status: 'paid' });
    expect(await h.sql`SELECT result FROM payment_inbox WHERE event_id = 'evt-late-failure'`).toEqual([{ result: 'ignored' }]);

    // a late failure with another amount is refused as Redis would refuse it, recorded, and refused again when retried
    const wrongRaw = JSON.stringify({ event_id: 'evt-late-wrong', type: 'payment.failed', hold_id: hold.id, amount_minor: 599, currency: 'EUR' });
    const wrong = () => h.request('POST', '/api/webhooks/payment', { body: wrongRaw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, wrongRaw) } });
    for (const _ of [1, 2]) {
      const res = await wrong();
      expect(res.status).toBe(422);
      expect(await body(res, Problem)).toMatchObject({ code: 'amount_mismatch', expected_amount_minor: 600, expected_currency: 'EUR' });
    }
    expect(await h.sql`SELECT result FROM payment_events WHERE event_id = 'evt-late-wrong'`).toEqual([{ result: 'amount_mismatch' }]);
    expect(await h.sql`SELECT result FROM payment_inbox WHERE event_id = 'evt-late-wrong'`).toEqual([{ result: 'amount_mismatch' }]);
    expect(await h.sql`SELECT status FROM orders WHERE id = ${order.id}`).toEqual([{ status: 'paid' }]);
    expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
  });

  const send = (ev: object) => {
    const raw = JSON.stringify(ev);
    return h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
  };
  /** the deadlines pass, then the retention: the sweep drops the product's ended records */
  async function dropEnded(pid: string): Promise<void> {
    await sleep(400);
    await h.runtime.engine.sweep.run();
    await sleep(600);
    await h.runtime.engine.sweep.run();
    const k = h.runtime.engine.ctx.keys.product(pid);
    expect([await h.redis.hlen(k.holds), await h.redis.hlen(k.orders), await h.redis.hlen(k.events)]).toEqual([0, 0, 0]);
  }

  it('answers a success for an order that ended paid as while Redis held it: 200 ignored, a wrong amount 422, not 404', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    const token = h.token(uniq('buyer'));
    const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
    const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
    const success = (amount: number) => ({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: hold.id, amount_minor: amount, currency: 'EUR' });
    expect((await body(send(success(600)), PaymentOutcome)).result).toBe('applied');
    // while Redis holds the order, another success changes nothing and a wrong amount is refused
    expect(await body(send(success(600)), PaymentOutcome)).toEqual({ result: 'ignored', order_id: order.id, order_status: 'paid' });
    expect((await send(success(599))).status).toBe(422);
    await expect.poll(async () => (await h.sql`SELECT count(*)::int AS n FROM payment_events WHERE hold_id = ${hold.id}`)[0]!.n, { timeout: 10_000 }).toBe(3);
    await expect.poll(async () => (await h.sql`SELECT status FROM orders WHERE id = ${order.id}`)[0]?.status, { timeout: 10_000 }).toBe('paid');
    await dropEnded(pid);

    expect(await body(send(success(600)), PaymentOutcome)).toEqual({ result: 'ignored', order_id: order.id, order_status: 'paid' });
    const wrong = await send(success(599));
    expect(wrong.status).toBe(422);
    expect(await body(wrong, Problem)).toMatchObject({ code: 'amount_mismatch', expected_amount_minor: 600, expected_currency: 'EUR' });
    expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
  });

  it('refuses an event refused for its amount before any order again when retried after its records left Redis', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    const token = h.token(uniq('buyer'));
    const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
    const ev = { event_id: uniq('evt'), type: 'payment.succeeded', hold_id: hold.id, amount_minor: 1, currency: 'EUR' };
    for (const _ of [1, 2]) expect((await body(send(ev), Problem)).code).toBe('amount_mismatch');
    await expect.poll(async () => (await h.sql`SELECT result FROM payment_events WHERE event_id = ${ev.event_id}`)[0]?.result, { timeout: 10_000 }).toBe('amount_mismatch');
    await dropEnded(pid);

    const retried = await send(ev);
    expect(retried.status).toBe(422);
    expect((await body(retried, Problem)).code).toBe('amount_mismatch');
  });
});
