import { expect } from 'vitest';
import { Hold, Order } from '../../src/contract.js';
import { body } from '../support/answers.js';
import { uniq, type Harness } from '../support/harness.js';

/** Orders for the provider flows: a product of 5 units at `price`, a hold of 2, the order; and how to look at them. */

export interface Flow {
  pid: string;
  user: string;
  holdId: string;
  orderId: string;
}

/** Stock of the product after its hold of 2 became an order that is still unpaid, paid, or failed. */
export const UNTOUCHED = { total: 5, available: 3, held: 0, pending_payment: 2, sold: 0 };
export const SOLD = { total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 };
export const RELEASED = { total: 5, available: 5, held: 0, pending_payment: 0, sold: 0 };

/** `harness` is called on use: the tests' harness arrives in beforeAll. */
export function providerFlows(harness: () => Harness, price: number) {
  async function holdFor(): Promise<Omit<Flow, 'orderId'>> {
    const h = harness();
    const pid = await h.createProduct({ stock: 5, unit_price_minor: price, currency: 'EUR' });
    const user = uniq('buyer');
    const res = await h.request('POST', '/api/holds', { token: h.token(user), body: { product_id: pid, qty: 2 } });
    expect(res.status).toBe(201);
    return { pid, user, holdId: (await body(res, Hold)).id };
  }

  async function orderFor(): Promise<Flow> {
    const f = await holdFor();
    const h = harness();
    const res = await h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } });
    expect(res.status).toBe(201);
    return { ...f, orderId: (await body(res, Order)).id };
  }

  const orderStatus = async (f: Flow) =>
    (await body(harness().request('GET', `/api/orders/${f.orderId}`, { token: harness().token(f.user) }), Order)).status;
  const pgStatus = async (orderId: string) => (await harness().sql`SELECT status FROM orders WHERE id = ${orderId}`)[0]?.status as string | undefined;
  /** event id → result of the payment events Postgres holds for a hold */
  const pgEvents = async (holdId: string) =>
    Object.fromEntries((await harness().sql`SELECT event_id, result FROM payment_events WHERE hold_id = ${holdId}`).map((r) => [r.event_id, r.result]));

  /** the payments inbox's rows for a hold: who sent each event, as received, and what applying it did */
  const inbox = (holdId: string) =>
    harness().sql<{ event_id: string; provider: string; raw_body: string; signatures: Record<string, string>; result: string | null }[]>`
      SELECT event_id, provider, raw_body, signatures, result FROM payment_inbox WHERE hold_id = ${holdId} ORDER BY event_id`;

  return { holdFor, orderFor, orderStatus, pgStatus, pgEvents, inbox };
}
