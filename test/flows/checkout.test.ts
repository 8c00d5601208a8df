import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { Hold, Order, PaymentOutcome, type PaymentEvent } from '../../src/contract.js';
import { answer } from '../support/answers.js';

let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

function webhook(event: PaymentEvent) {
  const raw = JSON.stringify(event);
  return h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
}

describe('checkout flow', () => {
  it('hold -> order -> signed webhook -> paid row in Postgres', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 2500 });
    const token = h.token('alice');
    const hold = await answer(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
    expect(hold.status).toBe(201);
    const order = await answer(h.request('POST', '/api/orders', { token, body: { hold_id: hold.body.id } }), Order);
    expect(order.status).toBe(201);
    expect(order.body).toMatchObject({ total_minor: 5000, status: 'pending_payment', currency: 'EUR' });
    const again = await answer(h.request('POST', '/api/orders', { token, body: { hold_id: hold.body.id } }), Order);
    expect(again.status).toBe(200);
    expect(again.body).toEqual(order.body);
    expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 2, sold: 0 });

    const paid = await answer(webhook({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: hold.body.id, amount_minor: 5000, currency: 'EUR' }), PaymentOutcome);
    expect(paid).toEqual({ status: 200, body: { result: 'applied', order_id: order.body.id, order_status: 'paid' } });
    expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });

    await expect.poll(async () => (await h.sql`SELECT status FROM orders WHERE id = ${order.body.id}`)[0]?.status, { timeout: 10_000 }).toBe('paid');
    const events = await h.sql`SELECT result FROM payment_events WHERE hold_id = ${hold.body.id}`;
    await expect.poll(async () => (await h.sql`SELECT result FROM payment_events WHERE hold_id = ${hold.body.id}`).map((r) => r.result), { timeout: 10_000 }).toEqual(['applied']);
    void events;
  });
});
