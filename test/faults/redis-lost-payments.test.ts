import { describe, expect, it } from 'vitest';
import { Hold, Order, PaymentOutcome } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { dropPrefix } from '../../src/tools/redis-prefix.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { inboxResult as resultOf, persistedOrderPaid } from '../support/paid-orders.js';
import { WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';

/** Acknowledged payments whose holds a total loss of Redis took: never kept silently. */
test.override('harnessOptions', { inProcess: true });
// short enough for an outage to outlast an order's payment deadline
test.override('engineEnv', { PAYMENT_TTL_MS: '2000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const inboxResult = (eventId: string) => resultOf(h, eventId);

describe('a total loss of Redis', () => {
  it('a success deferred for an order that was never placed is marked refund_required by recovery, once', async () => {
    const engine = h.runtime.engine;
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 700 });
    const token = h.token(uniq('u'));
    const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
    const eventId = uniq('evt');
    const raw = JSON.stringify({ event_id: eventId, type: 'payment.succeeded', hold_id: hold.id, amount_minor: 1400, currency: 'EUR' });
    const res = await answer(h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } }), PaymentOutcome);
    expect(res.status).toBe(200);
    expect(res.body.result).toBe('deferred');
    await engine.persistence.drain(pid);
    expect(await inboxResult(eventId)).toBe('deferred');

    await dropPrefix(h.redis, h.config.KEY_PREFIX);
    const report = await engine.recovery.run();
    expect(report.payments).toMatchObject({ checked: 1, refund_required: 1, reapplied: 0, unresolved: 0 });
    expect(await inboxResult(eventId)).toBe('refund_required');
    // settled: the next sweep has nothing left to look at
    expect(await engine.inbox.recover({ minAgeMs: 0 })).toMatchObject({ checked: 0 });
    expect(await h.stock(pid)).toMatchObject({ available: 5, held: 0, pending_payment: 0, sold: 0 });
  });
});

describe('a total loss of Redis after a payment, past the order\'s deadline', () => {
  it('the paid order is rebuilt paid: its deadline does not release the stock, and no refund is asked for', async () => {
    const engine = h.runtime.engine;
    // Postgres has the order pending; the payment is acknowledged, and Redis is lost before its drain
    const { pid, token, order, eventId } = await persistedOrderPaid(h, 2);
    expect(await inboxResult(eventId)).toBeNull();
    await dropPrefix(h.redis, h.config.KEY_PREFIX);
    await sleep(Date.parse(order.payment_due_at) - Date.now() + 200);

    // the first request rebuilds the product; the expiry job (or the sweep) comes next, the inbox's recovery later
    expect((await h.request('GET', `/api/products/${pid}`)).status).toBe(200);
    await engine.expiry.orders(pid);
    expect(await body(h.request('GET', `/api/orders/${order.id}`, { token }), Order)).toMatchObject({ status: 'paid' });
    expect((await h.request('POST', '/api/holds', { token: h.token(uniq('v')), body: { product_id: pid, qty: 1 } })).status).toBe(409);
    expect(await engine.inbox.recover({ minAgeMs: 0 })).toMatchObject({ reapplied: 0, refund_required: 0, unresolved: 0 });
    await engine.persistence.drain(pid);
    expect(await inboxResult(eventId)).toBe('applied');
    expect(await h.stock(pid)).toMatchObject({ available: 0, held: 0, pending_payment: 0, sold: 2 });
  });
});

describe('a total loss of Redis after a late success paid a failed order', () => {
  it('the success is settled as what paid the order: the failure before it is no payment, no refund is asked for', async () => {
    const engine = h.runtime.engine;
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 700 });
    const token = h.token(uniq('u'));
    const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
    const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
    const send = (type: string) => {
      const eventId = uniq('evt');
      const raw = JSON.stringify({ event_id: eventId, type, hold_id: hold.id, amount_minor: 1400, currency: 'EUR' });
      return { eventId, res: answer(h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } }), PaymentOutcome) };
    };
    expect((await send('payment.failed').res).body).toMatchObject({ result: 'applied', order_status: 'payment_failed' });
    await engine.persistence.drain(pid);
    // the customer pays after all: the late success re-reserves the units
    const success = send('payment.succeeded');
    expect((await success.res).body).toMatchObject({ result: 'applied', order_status: 'paid' });
    // the orders' drain writes the paid order; Redis is lost before the events' drain records the success
    const writeOrders = Reflect.get(engine.persistence, 'writeOrders') as (productId: string, k: unknown) => Promise<number>;
    await writeOrders.call(engine.persistence, pid, engine.ctx.keys.product(pid));
    expect(await h.sql`SELECT status FROM orders WHERE id = ${order.id}`).toEqual([{ status: 'paid' }]);
    await dropPrefix(h.redis, h.config.KEY_PREFIX);

    expect(await engine.inbox.recover({ minAgeMs: 0 })).toMatchObject({ refund_required: 0, unresolved: 0 });
    expect(await inboxResult(success.eventId)).toBe('applied');
  });
});
