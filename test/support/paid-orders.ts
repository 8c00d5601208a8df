import { expect } from 'vitest';
import { Hold, Order, PaymentOutcome } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer, body } from './answers.js';
import { WEBHOOK_SECRET, uniq, type Harness } from './harness.js';

/**
 * Where the tests that then lose Redis start: a customer's order of 2 units at 700 on a new product of
 * `stock` units, in Postgres (drained) as pending, then paid by a signed `payment.succeeded` that Redis
 * applied and Postgres does not have yet.
 */
export async function persistedOrderPaid(h: Harness, stock: number) {
  const pid = await h.createProduct({ stock, unit_price_minor: 700 });
  const token = h.token(uniq('u'));
  const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
  const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
  await h.runtime.engine.persistence.drain(pid);
  const eventId = uniq('evt');
  const raw = JSON.stringify({ event_id: eventId, type: 'payment.succeeded', hold_id: hold.id, amount_minor: 1400, currency: 'EUR' });
  const headers = { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) };
  const paid = await answer(h.request('POST', '/api/webhooks/payment', { body: raw, headers }), PaymentOutcome);
  expect(paid.status).toBe(200);
  expect(paid.body).toMatchObject({ result: 'applied', order_status: 'paid' });
  return { pid, token, hold, order, eventId };
}

/** The result an inbox row has (null while open), or null without a row. */
export async function inboxResult(h: Harness, eventId: string): Promise<string | null> {
  return (await h.sql<{ result: string | null }[]>`SELECT result FROM payment_inbox WHERE event_id = ${eventId}`)[0]?.result ?? null;
}
