import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import * as inboxRows from '../../src/db/payment-inbox.js';
import { commands } from '../../src/redis/commands.js';
import { dropPrefix } from '../../src/tools/redis-prefix.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { Hold, InboxRecovery, Order, PaymentOutcome, Problem, type OrderStatus, type PaymentEvent, type PaymentEventType } from '../../src/contract.js';
import { answer, body } from '../support/answers.js';

const PRICE = 1500;
test.override('engineEnv', { HOLD_TTL_MS: '1000', PAYMENT_TTL_MS: '1000', SWEEP_INTERVAL_MS: '600000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Flow {
  pid: string;
  user: string;
  holdId: string;
  orderId?: string;
}

async function holdFor(stock = 5, qty = 2, on = h): Promise<Flow> {
  const pid = await on.createProduct({ stock, unit_price_minor: PRICE });
  const user = uniq('buyer');
  const res = await on.request('POST', '/api/holds', { token: on.token(user), body: { product_id: pid, qty } });
  expect(res.status).toBe(201);
  return { pid, user, holdId: (await body(res, Hold)).id };
}

async function orderFor(stock = 5, qty = 2, on = h): Promise<Required<Flow>> {
  const f = await holdFor(stock, qty, on);
  const res = await on.request('POST', '/api/orders', { token: on.token(f.user), body: { hold_id: f.holdId } });
  expect(res.status).toBe(201);
  return { ...f, orderId: (await body(res, Order)).id };
}

function event(f: Flow, type: PaymentEventType, extra: Partial<PaymentEvent> = {}): PaymentEvent {
  return { event_id: uniq('evt'), type, hold_id: f.holdId, amount_minor: PRICE * 2, currency: 'EUR', ...extra };
}

function send(ev: PaymentEvent, on = h): Promise<Response> {
  const raw = JSON.stringify(ev);
  return on.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
}

/** A delivery the engine takes: what it did to the order. */
const deliver = (ev: PaymentEvent, on = h) => answer(send(ev, on), PaymentOutcome);
/** A delivery the engine refuses: the problem. */
const refused = (ev: PaymentEvent, on = h) => answer(send(ev, on), Problem);

async function orderStatus(f: Flow): Promise<OrderStatus> {
  const res = await h.request('GET', `/api/orders/${f.orderId}`, { token: h.token(f.user) });
  return (await body(res, Order)).status;
}

const pgStatus = async (orderId: string) => (await h.sql`SELECT status FROM orders WHERE id = ${orderId}`)[0]?.status as string | undefined;
/** An event's row in the payments inbox. */
const inboxRow = async (eventId: string, on = h) =>
  (await on.sql<{ provider: string; hold_id: string; raw_body: string; signatures: Record<string, string>; result: string | null }[]>`
    SELECT provider, hold_id, raw_body, signatures, result FROM payment_inbox WHERE event_id = ${eventId}`)[0];
const reapply = (on: Harness) => answer(on.request('POST', '/api/admin/payments/reapply', { token: ADMIN_TOKEN }), InboxRecovery);

describe('the payments inbox', () => {
  /** An engine without a worker: no drain writes payment_events, so what Postgres holds came from the webhook itself. */
  let bare: Harness;
  test.beforeAll(async ({ startEngine }) => {
    bare = await startEngine({}, { inProcess: true });
  });

  it('the 200 comes after the event is in Postgres: provider, raw body, signature, the engine event', async () => {
    const f = await orderFor(5, 2, bare);
    const ev = event(f, 'payment.succeeded');
    const raw = JSON.stringify(ev);
    const signature = signPayload(WEBHOOK_SECRET, raw);
    const res = await bare.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signature } });
    expect((await body(res, PaymentOutcome)).result).toBe('applied');
    const [row] = await bare.sql`SELECT * FROM payment_inbox WHERE event_id = ${ev.event_id}`;
    expect(row).toMatchObject({
      provider: 'generic', type: 'payment.succeeded', hold_id: f.holdId, order_id: null, amount_minor: String(PRICE * 2), currency: 'EUR',
      raw_body: raw, signatures: { 'payment-signature': signature }, result: null,
    });
    expect(row!.received_at).toBeInstanceOf(Date);
    // no drain ran: the inbox row is the webhook's own doing
    expect((await bare.sql`SELECT count(*)::int AS n FROM payment_events`)[0]!.n).toBe(0);
  });

  it('the same event_id for a hold of another product: 422, one effect', async () => {
    const [first, second] = [await orderFor(), await orderFor()];
    const ev = event(first, 'payment.succeeded');
    expect((await deliver(ev)).body).toMatchObject({ result: 'applied', order_status: 'paid' });
    const other = await refused({ ...ev, hold_id: second.holdId });
    expect(other).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
    expect(await orderStatus(second)).toBe('pending_payment');
    expect(await h.stock(second.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 2, sold: 0 });
    expect(await h.redis.hexists(h.runtime.engine.ctx.keys.product(second.pid).events, ev.event_id)).toBe(0);
    // the first delivery again is still its duplicate
    expect((await deliver(ev)).body).toMatchObject({ result: 'duplicate', order_status: 'paid' });
    await expect.poll(async () => (await h.sql`SELECT count(*)::int AS n FROM payment_events WHERE event_id = ${ev.event_id}`)[0]!.n, { timeout: 10_000 }).toBe(1);
    expect(await inboxRow(ev.event_id)).toMatchObject({ hold_id: first.holdId });
  });

  it('recovery reaches every open event, however many older ones stay open', async () => {
    // more than a page of events Redis applied and no drain recorded (this engine has no worker): open rows
    const f = await orderFor(5, 2, bare);
    const known = Array.from({ length: 501 }, () => event(f, 'payment.succeeded'));
    for (let i = 0; i < known.length; i += 25) await Promise.all(known.slice(i, i + 25).map((ev) => deliver(ev, bare)));
    // then one stored as the webhook route stores it, whose apply never ran (its process died)
    const g = await orderFor(5, 2, bare);
    const lost = event(g, 'payment.succeeded');
    await inboxRows.insert(bare.sql, { provider: 'generic', event: lost, raw: JSON.stringify(lost), signatures: {} });

    const report = (await reapply(bare)).body;
    expect(report).toMatchObject({ reapplied: 1, refund_required: 0, unresolved: 0 });
    expect(report.checked).toBeGreaterThanOrEqual(known.length + 1);
    const order = await body(bare.request('GET', `/api/orders/${g.orderId}`, { token: bare.token(g.user) }), Order);
    expect(order.status).toBe('paid');
  });

  test('Redis loses an acknowledged payment (its keys flushed): the inbox keeps it, recovery marks it refund_required', async ({ startEngine }) => {
    const lossy = await startEngine({}, { inProcess: true });
    const f = await orderFor(5, 2, lossy);
    const ev = event(f, 'payment.succeeded');
    expect((await deliver(ev, lossy)).body).toMatchObject({ result: 'applied', order_status: 'paid' });
    // before any drain: Redis alone knew the payment, and loses everything of this engine's prefix
    await dropPrefix(lossy.redis, lossy.config.KEY_PREFIX);
    expect((await reapply(lossy)).body).toEqual({ checked: 1, reapplied: 0, refund_required: 1, unresolved: 0 });
    expect(await inboxRow(ev.event_id, lossy)).toMatchObject({ result: 'refund_required', raw_body: JSON.stringify(ev) });
    // settled: the next run has nothing to look at
    expect((await reapply(lossy)).body).toEqual({ checked: 0, reapplied: 0, refund_required: 0, unresolved: 0 });
  });
});

describe('payment webhooks', () => {
  it('50 concurrent deliveries of one event: exactly one applied, the rest duplicate', async () => {
    const f = await orderFor();
    const ev = event(f, 'payment.succeeded');
    const raw = JSON.stringify(ev);
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        answer(
          fetch(`${h.url}/api/webhooks/payment`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) },
            body: raw,
          }),
          PaymentOutcome,
        ).then((a) => ({ status: a.status, result: a.body.result })),
      ),
    );
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.result === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.result === 'duplicate')).toHaveLength(49);
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
    await expect.poll(() => h.sql`SELECT count(*)::int AS n FROM payment_events WHERE event_id = ${ev.event_id}`.then((r) => r[0]!.n), { timeout: 10_000 }).toBe(1);
  });

  it('same event_id with another body is refused with 422 and changes nothing', async () => {
    const f = await orderFor();
    const ev = event(f, 'payment.succeeded');
    expect((await deliver(ev)).body.result).toBe('applied');
    const other = await refused({ ...ev, type: 'payment.failed' });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_reused');
    expect(await orderStatus(f)).toBe('paid');
  });

  it('a failure delivered after the success does not undo the paid order', async () => {
    const f = await orderFor();
    expect((await deliver(event(f, 'payment.succeeded'))).body).toMatchObject({ result: 'applied', order_status: 'paid' });
    expect((await deliver(event(f, 'payment.failed'))).body).toMatchObject({ result: 'ignored', order_status: 'paid' });
    expect(await orderStatus(f)).toBe('paid');
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
  });

  it('a failed payment releases the stock and the per-user units', async () => {
    const f = await orderFor();
    expect((await deliver(event(f, 'payment.failed'))).body).toMatchObject({ result: 'applied', order_status: 'payment_failed' });
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 5, held: 0, pending_payment: 0, sold: 0 });
    expect(await h.redis.hexists(h.runtime.engine.ctx.keys.product(f.pid).used, f.user)).toBe(0);
    await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('payment_failed');
  });

  it('an early webhook (before the order exists) is deferred and applied when the order is created', async () => {
    const f = await holdFor();
    expect((await deliver(event(f, 'payment.succeeded'))).body).toMatchObject({ result: 'deferred', order_status: null });
    expect(await h.stock(f.pid)).toMatchObject({ held: 2, sold: 0 });
    const res = await h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } });
    expect(res.status).toBe(201);
    const order = await body(res, Order);
    expect(order.status).toBe('paid');
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
    await expect.poll(() => pgStatus(order.id), { timeout: 10_000 }).toBe('paid');
    await expect
      .poll(async () => (await h.sql`SELECT result FROM payment_events WHERE hold_id = ${f.holdId}`).map((r) => r.result), { timeout: 10_000 })
      .toEqual(['applied']);
    // the inbox row follows: deferred, then applied
    await expect.poll(async () => (await h.sql`SELECT result FROM payment_inbox WHERE hold_id = ${f.holdId}`).map((r) => r.result), { timeout: 10_000 }).toEqual(['applied']);
  });

  it('an early success whose order is never requested becomes a paid order when the hold expires', async () => {
    const f = await holdFor();
    expect((await deliver(event(f, 'payment.succeeded'))).body.result).toBe('deferred');
    await sleep(1100);
    await h.runtime.engine.expiry.holdsOf([f.pid]);
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
    const orderId = f.holdId.replace(/^h_/, 'o_');
    await expect.poll(() => pgStatus(orderId), { timeout: 10_000 }).toBe('paid');
  });

  it('a hold paid before its order cannot be released: it becomes the paid order', async () => {
    const f = await holdFor();
    expect((await deliver(event(f, 'payment.succeeded'))).body.result).toBe('deferred');
    const res = await h.request('DELETE', `/api/holds/${f.holdId}`, { token: h.token(f.user) });
    expect(res.status).toBe(409);
    expect((await body(res, Problem)).code).toBe('hold_not_active');
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
    await expect.poll(() => pgStatus(f.holdId.replace(/^h_/, 'o_')), { timeout: 10_000 }).toBe('paid');
  });

  it('a hold paid before its order, converted after its deadline (no job ran yet): the paid order, not 410', async () => {
    const f = await holdFor();
    const queue = h.runtime.engine.ctx.queues.byName.expiry;
    for (const job of await queue.getDelayed()) if (job.data.productId === f.pid) await job.remove();
    expect((await deliver(event(f, 'payment.succeeded'))).body.result).toBe('deferred');
    await sleep(1100);
    const res = await h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } });
    expect(res.status).toBe(201);
    expect((await body(res, Order)).status).toBe('paid');
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
  });

  it('a second success before the order keeps the first: one applied, the other ignored', async () => {
    const f = await holdFor();
    const first = event(f, 'payment.succeeded');
    const second = event(f, 'payment.succeeded');
    expect((await deliver(first)).body.result).toBe('deferred');
    expect((await deliver(second)).body.result).toBe('ignored');
    expect((await deliver(event(f, 'payment.failed'))).body.result).toBe('ignored');
    const res = await h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } });
    expect((await body(res, Order)).status).toBe('paid');
    await expect
      .poll(async () => Object.fromEntries((await h.sql`SELECT event_id, result FROM payment_events WHERE hold_id = ${f.holdId}`).map((r) => [r.event_id, r.result])), { timeout: 10_000 })
      .toMatchObject({ [first.event_id]: 'applied', [second.event_id]: 'ignored' });
  });

  it('a deferred failure that a success overtakes is marked ignored', async () => {
    const f = await holdFor();
    const failure = event(f, 'payment.failed');
    expect((await deliver(failure)).body.result).toBe('deferred');
    expect((await deliver(event(f, 'payment.succeeded'))).body.result).toBe('deferred');
    const res = await h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } });
    expect((await body(res, Order)).status).toBe('paid');
    await expect
      .poll(async () => (await h.sql`SELECT result FROM payment_events WHERE event_id = ${failure.event_id}`)[0]?.result, { timeout: 10_000 })
      .toBe('ignored');
  });

  it('amount or currency mismatch: 422, order unchanged, event recorded', async () => {
    const f = await orderFor();
    const wrongAmount = event(f, 'payment.succeeded', { amount_minor: 1 });
    const res = await refused(wrongAmount);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ code: 'amount_mismatch', expected_amount_minor: PRICE * 2, expected_currency: 'EUR' });
    expect((await refused(event(f, 'payment.succeeded', { currency: 'USD' }))).status).toBe(422);
    expect((await refused(wrongAmount)).status).toBe(422);
    expect(await orderStatus(f)).toBe('pending_payment');
    expect(await h.stock(f.pid)).toMatchObject({ pending_payment: 2, sold: 0 });
    await expect
      .poll(async () => (await h.sql`SELECT result FROM payment_events WHERE event_id = ${wrongAmount.event_id}`)[0]?.result, { timeout: 10_000 })
      .toBe('amount_mismatch');
  });

  /** Redis drops an ended order's records: a forced rebuild keeps pending orders only, retention collects the others. */
  const dropEnded = {
    'kept in Redis': async () => {},
    'dropped by a forced rebuild': async (f: Flow) => {
      await h.runtime.engine.persistence.drain(f.pid);
      await h.runtime.engine.recovery.checkAll({ force: true });
    },
    'collected after their retention': async (f: Flow) => {
      const { ctx, persistence } = h.runtime.engine;
      await persistence.drain(f.pid);
      await commands.collectEnded(ctx.redis, ctx.keys.product(f.pid), 0, 1000);
    },
  };
  const dropped = async (f: Required<Flow>) => (await h.redis.hexists(h.runtime.engine.ctx.keys.product(f.pid).orders, f.orderId.split('_')[1]!)) === 0;

  describe.each(Object.entries(dropEnded))('an expired order\'s records %s', (name, drop) => {
    it('late success re-reserves stock when it is there', async () => {
      const f = await orderFor(5, 2);
      await sleep(1100);
      await h.runtime.engine.expiry.orders(f.pid);
      expect(await orderStatus(f)).toBe('expired');
      await drop(f);
      expect(await dropped(f)).toBe(name !== 'kept in Redis');
      expect(await h.stock(f.pid)).toEqual({ total: 5, available: 5, held: 0, pending_payment: 0, sold: 0 });
      expect((await deliver(event(f, 'payment.succeeded'))).body).toMatchObject({ result: 'applied', order_status: 'paid' });
      expect(await orderStatus(f)).toBe('paid');
      expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
      await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('paid');
    });

    it('late success after the stock was sold to someone else asks for a refund', async () => {
      const f = await orderFor(2, 2);
      await sleep(1100);
      await h.runtime.engine.expiry.orders(f.pid);
      await drop(f);
      const other = await h.request('POST', '/api/holds', { token: h.token(uniq('other')), body: { product_id: f.pid, qty: 2 } });
      expect(other.status).toBe(201);
      expect((await deliver(event(f, 'payment.succeeded'))).body).toMatchObject({ result: 'applied', order_status: 'refund_required' });
      expect(await h.stock(f.pid)).toEqual({ total: 2, available: 0, held: 2, pending_payment: 0, sold: 0 });
      await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('refund_required');
    });
  });

  it('late success for a hold that expired before any order: paid if stock allows', async () => {
    const f = await holdFor(5, 2);
    await sleep(1100);
    await h.runtime.engine.expiry.holdsOf([f.pid]);
    expect((await deliver(event(f, 'payment.succeeded'))).body).toMatchObject({ result: 'applied', order_status: 'paid' });
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
    const again = await h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } });
    expect(again.status).toBe(200);
    expect((await body(again, Order)).status).toBe('paid');
  });

  it('unpaid orders expire and return their stock', async () => {
    const f = await orderFor(5, 2);
    await expect.poll(() => orderStatus(f), { timeout: 6000, interval: 200 }).toBe('expired');
    expect(await h.stock(f.pid)).toEqual({ total: 5, available: 5, held: 0, pending_payment: 0, sold: 0 });
    await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('expired');
  });

  it('order expiry racing a payment: exactly one wins and stock stays consistent', async () => {
    const flows = await Promise.all(Array.from({ length: 20 }, () => orderFor(4, 2)));
    await sleep(1000);
    const results = await Promise.all([
      ...flows.map((f) => deliver(event(f, 'payment.succeeded'))),
      ...flows.map((f) => h.runtime.engine.expiry.orders(f.pid)),
    ]);
    for (const [i, f] of flows.entries()) {
      const status = await orderStatus(f);
      expect(['paid', 'expired']).toContain(status);
      const stock = await h.stock(f.pid);
      // a success that lost the race against expiry re-reserves: the order still ends paid
      expect(stock).toEqual(status === 'paid' ? { total: 4, available: 2, held: 0, pending_payment: 0, sold: 2 } : { total: 4, available: 4, held: 0, pending_payment: 0, sold: 0 });
      expect((results[i] as { status: number }).status).toBe(200);
    }
  });
});
