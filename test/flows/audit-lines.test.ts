import { describe, expect, it } from 'vitest';
import {
  CreatedWebhookEndpoint, Hold, InboxRecovery, Order, PaymentOutcome, Problem, ReconcileReport, RecoveryReport, Ticket, type PaymentEvent,
} from '../../src/contract.js';
import * as inboxRows from '../../src/db/payment-inbox.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { formatId, parseId } from '../../src/redis/keys.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { keptLogLines } from '../support/log-lines.js';

/**
 * SPEC: the request id on every line. What a request changes is logged as the engine does it, deep
 * inside the engine; each such line names the request that caused it (its X-Request-Id). No worker
 * runs here: every line is one a request wrote.
 */

const { logger, lines: logged } = keptLogLines();
test.override('harnessOptions', { inProcess: true, logger });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const PRICE = 12_900;
/** sends the one request whose lines are checked, with its request id */
type Send = (method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }) => Promise<Response>;

const admin = { token: ADMIN_TOKEN };

async function holdOf(pid: string, token: string, qty = 1) {
  return body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty } }), Hold);
}

/** A new product's pending order of `qty` units. */
async function pendingOrder(qty = 1) {
  const pid = await h.createProduct();
  const token = h.token(uniq('u'));
  const hold = await holdOf(pid, token, qty);
  const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
  return { pid, token, hold, order };
}

function paymentEvent(holdId: string, amount: number): PaymentEvent {
  return { event_id: uniq('evt'), type: 'payment.succeeded', hold_id: holdId, amount_minor: amount, currency: 'EUR' };
}

function signed(e: PaymentEvent) {
  const raw = JSON.stringify(e);
  return { body: raw, headers: { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } };
}

/** An event in the payments inbox that Redis never saw (its API process died before applying it). */
async function inInbox(e: PaymentEvent): Promise<void> {
  const { body: raw, headers } = signed(e);
  await inboxRows.insert(h.sql, { provider: 'generic', event: e, raw, signatures: { 'payment-signature': headers['payment-signature'] } });
}

/**
 * A change of the product whose commit Postgres refuses, after Redis took its lower stock; meanwhile
 * Redis came to count more units committed than Postgres's stock, so it refuses that stock back.
 */
async function refusedCommitNotGivenBack(send: Send): Promise<void> {
  const pid = await h.createProduct({ stock: 10 });
  const lock = Number.parseInt(uniq('').slice(0, 8), 16);
  await h.sql.unsafe(`
    CREATE OR REPLACE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(${lock});
      RAISE EXCEPTION 'refused at commit';
    END $$;
    DROP TRIGGER IF EXISTS refuse_commit ON products;
    CREATE CONSTRAINT TRIGGER refuse_commit AFTER UPDATE ON products DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW WHEN (NEW.name = 'refused at commit') EXECUTE FUNCTION refuse_commit();`);
  const held = await h.sql.reserve();
  try {
    await held`SELECT pg_advisory_lock(${lock})`;
    const patched = send('PATCH', `/api/admin/products/${pid}`, { ...admin, body: { name: 'refused at commit', stock: 4 } });
    const key = h.runtime.engine.ctx.keys.product(pid).product;
    // the change has written Redis and waits to commit
    await expect.poll(() => h.redis.hget(key, 'total'), { timeout: 10_000 }).toBe('4');
    await h.redis.hincrby(key, 'sold', 20);
    await held`SELECT pg_advisory_unlock(${lock})`;
    expect((await answer(patched, Problem)).status).toBe(500);
  } finally {
    held.release();
  }
}

const cases: { request: string; line: string; act: (send: Send) => Promise<void> }[] = [
  {
    request: 'POST /api/admin/products',
    line: 'product created',
    act: async (send) => {
      const res = await send('POST', '/api/admin/products', { ...admin, body: { name: 'Drop', unit_price_minor: PRICE, currency: 'EUR', stock: 3 } });
      expect(res.status).toBe(201);
    },
  },
  {
    request: 'PATCH /api/admin/products/:id',
    line: 'product changed',
    act: async (send) => {
      const pid = await h.createProduct();
      expect((await send('PATCH', `/api/admin/products/${pid}`, { ...admin, body: { stock: 20 } })).status).toBe(200);
    },
  },
  {
    request: 'PATCH /api/admin/products/:id, its commit refused',
    line: 'could not give Redis back the product Postgres has',
    act: refusedCommitNotGivenBack,
  },
  {
    request: 'DELETE /api/holds/:id',
    line: 'hold released',
    act: async (send) => {
      const token = h.token(uniq('u'));
      const hold = await holdOf(await h.createProduct(), token);
      expect((await send('DELETE', `/api/holds/${hold.id}`, { token })).status).toBe(200);
    },
  },
  {
    request: 'DELETE /api/admin/holds/:id',
    line: 'hold released',
    act: async (send) => {
      const hold = await holdOf(await h.createProduct(), h.token(uniq('u')));
      expect((await send('DELETE', `/api/admin/holds/${hold.id}`, admin)).status).toBe(200);
    },
  },
  {
    request: 'POST /api/orders',
    line: 'order created',
    act: async (send) => {
      const token = h.token(uniq('u'));
      const hold = await holdOf(await h.createProduct(), token);
      expect((await send('POST', '/api/orders', { token, body: { hold_id: hold.id } })).status).toBe(201);
    },
  },
  {
    request: 'POST /api/webhooks/payment',
    line: 'payment event',
    act: async (send) => {
      const { hold } = await pendingOrder();
      const paid = await answer(send('POST', '/api/webhooks/payment', signed(paymentEvent(hold.id, PRICE))), PaymentOutcome);
      expect(paid.body).toMatchObject({ result: 'applied', order_status: 'paid' });
    },
  },
  {
    request: 'POST /api/webhooks/payment, not the order\'s amount',
    line: 'payment amount mismatch',
    act: async (send) => {
      const { hold } = await pendingOrder();
      expect(await body(send('POST', '/api/webhooks/payment', signed(paymentEvent(hold.id, 1))), Problem)).toMatchObject({ code: 'amount_mismatch' });
    },
  },
  {
    request: 'POST /api/admin/payments/reapply',
    line: 'payment event from the inbox applied: Redis did not know it',
    act: async (send) => {
      const { hold } = await pendingOrder();
      await inInbox(paymentEvent(hold.id, PRICE));
      expect(await body(send('POST', '/api/admin/payments/reapply', admin), InboxRecovery)).toMatchObject({ reapplied: 1 });
    },
  },
  {
    request: 'POST /api/admin/payments/reapply, the event\'s own line',
    line: 'payment event',
    act: async (send) => {
      const { hold } = await pendingOrder();
      await inInbox(paymentEvent(hold.id, PRICE));
      expect(await body(send('POST', '/api/admin/payments/reapply', admin), InboxRecovery)).toMatchObject({ reapplied: 1 });
    },
  },
  {
    request: 'POST /api/admin/payments/reapply, a hold that is gone',
    line: 'acknowledged payment for a hold that is gone: refund required',
    act: async (send) => {
      const { hold } = await pendingOrder();
      const ref = parseId('h', hold.id)!;
      await inInbox(paymentEvent(formatId('h', { ...ref, seq: String(Number(ref.seq) + 1) }), PRICE));
      expect(await body(send('POST', '/api/admin/payments/reapply', admin), InboxRecovery)).toMatchObject({ refund_required: 1 });
    },
  },
  {
    request: 'POST /api/admin/webhook-endpoints',
    line: 'webhook endpoint registered',
    act: async (send) => {
      const res = await send('POST', '/api/admin/webhook-endpoints', { ...admin, body: { url: 'https://shop.example/hooks', events: ['order.paid'] } });
      expect(res.status).toBe(201);
    },
  },
  {
    request: 'DELETE /api/admin/webhook-endpoints/:id',
    line: 'webhook endpoint deleted',
    act: async (send) => {
      const created = await body(h.request('POST', '/api/admin/webhook-endpoints', { ...admin, body: { url: 'https://shop.example/hooks', events: ['order.paid'] } }), CreatedWebhookEndpoint);
      expect((await send('DELETE', `/api/admin/webhook-endpoints/${created.id}`, admin)).status).toBe(204);
    },
  },
  {
    request: 'POST /api/products/:id/queue',
    line: 'queue.admitted',
    act: async (send) => {
      const pid = await h.createProduct({ stock: 1, admission: 'queue' });
      expect(await body(send('POST', `/api/products/${pid}/queue`, { token: h.token(uniq('u')) }), Ticket)).toMatchObject({ status: 'admitted' });
    },
  },
  {
    request: 'POST /api/admin/reconcile',
    line: 'reconcile found drift',
    act: async (send) => {
      const pid = await h.createProduct();
      await h.redis.hincrby(h.runtime.engine.ctx.keys.product(pid).product, 'held', 3);
      const report = await body(send('POST', '/api/admin/reconcile?dry_run=true', admin), ReconcileReport);
      expect(report.products.find((p) => p.product_id === pid)?.drift).not.toEqual([]);
    },
  },
  {
    request: 'POST /api/admin/recover',
    line: 'product rebuilt from Postgres: Redis was behind',
    act: async (send) => {
      await h.createProduct();
      const report = await body(send('POST', '/api/admin/recover', { ...admin, body: { force: true } }), RecoveryReport);
      expect(report.products.some((p) => p.rebuilt)).toBe(true);
    },
  },
  {
    request: 'POST /api/admin/recover, an event Redis never saw',
    line: 'payment event from the inbox applied with its product\'s rebuild',
    act: async (send) => {
      const { pid, hold } = await pendingOrder();
      await inInbox(paymentEvent(hold.id, PRICE));
      const report = await body(send('POST', '/api/admin/recover', { ...admin, body: { force: true } }), RecoveryReport);
      expect(report.products.find((p) => p.product_id === pid)).toMatchObject({ rebuilt: true, pending_orders: 1 });
    },
  },
];

describe('audit lines', () => {
  it.each(cases)('$request: $line, with its request id', async ({ line, act }) => {
    const reqId = uniq('req');
    let from = Number.POSITIVE_INFINITY;
    await act((method, path, opts = {}) => {
      from = logged.length;
      return h.request(method, path, { ...opts, headers: { ...opts.headers, 'x-request-id': reqId } });
    });
    const lines = logged.slice(from).filter((l) => l.msg === line);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.map((l) => l.reqId)).toEqual(lines.map(() => reqId));
  });
});
