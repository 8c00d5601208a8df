import { describe, expect, it } from 'vitest';
import { Hold, InboxRecovery, Order, PaymentOutcome } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import type { TcpProxy } from '../support/tcp-proxy.js';
import { exited, spawnApi, spawnWorker } from '../support/worker-process.js';

/**
 * An API process dies after storing a payment in the inbox and before Redis applied it: the provider
 * never got its 200, and the worker's recovery applies the event, once.
 */
// the engine of the test's own requests; the API that crashes and the worker run as processes
test.override('harnessOptions', { inProcess: true });
let h: Harness;
let redisProxy: TcpProxy;
test.beforeAll(({ harness, redisProxy: proxy }) => {
  h = harness;
  redisProxy = proxy;
});

const inboxResult = async (eventId: string) =>
  (await h.sql<{ result: string | null }[]>`SELECT result FROM payment_inbox WHERE event_id = ${eventId}`).map((r) => r.result);

describe('a crash between the inbox insert and the Redis apply', () => {
  it('the event stays in the inbox and the worker\'s recovery applies it, exactly once', async () => {
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 700 });
    const token = h.token(uniq('crash'));
    const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } }), Hold);
    const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
    const eventId = uniq('evt');
    const raw = JSON.stringify({ event_id: eventId, type: 'payment.succeeded', hold_id: hold.id, amount_minor: 1400, currency: 'EUR' });
    const headers = { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) };

    // its Redis cut just before the webhook: the event gets into the inbox, and the apply waits for Redis
    const api = await spawnApi(h.config, { REDIS_URL: redisProxy.wrap(h.config.REDIS_URL), REDIS_COMMAND_TIMEOUT_MS: '60000' });
    try {
      redisProxy.cut();
      const answered = fetch(`${api.url}/api/webhooks/payment`, { method: 'POST', headers, body: raw }).then((r) => r.status, () => 'no answer');
      await expect.poll(() => inboxResult(eventId), { timeout: 15_000 }).toEqual([null]);
      api.child.kill('SIGKILL');
      expect(await answered).not.toBe(200);
    } finally {
      api.child.kill('SIGKILL');
      await exited(api.child);
      redisProxy.restore();
    }
    const k = h.runtime.engine.ctx.keys.product(pid);
    expect(await h.redis.hexists(k.events, eventId)).toBe(0);
    expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 2, sold: 0 });

    const worker = spawnWorker(h.config, { SWEEP_INTERVAL_MS: '1000' });
    try {
      const status = async () => (await body(h.request('GET', `/api/orders/${order.id}`, { token }), Order)).status;
      await expect.poll(status, { timeout: 30_000, interval: 250 }).toBe('paid');
      // the worker's drain records what the event did on its inbox row
      await expect.poll(() => inboxResult(eventId), { timeout: 15_000 }).toEqual(['applied']);
    } finally {
      worker.kill('SIGTERM');
      await exited(worker);
    }
    // once: the provider's retry is a duplicate, and recovery has nothing left to apply
    const retry = await answer(h.request('POST', '/api/webhooks/payment', { body: raw, headers }), PaymentOutcome);
    expect(retry.body).toEqual({ result: 'duplicate', order_id: order.id, order_status: 'paid' });
    const again = await answer(h.request('POST', '/api/admin/payments/reapply', { token: ADMIN_TOKEN }), InboxRecovery);
    expect(again.body).toEqual({ checked: 0, reapplied: 0, refund_required: 0, unresolved: 0 });
    expect(await h.stock(pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
    expect((await h.sql`SELECT count(*)::int AS n FROM payment_events WHERE event_id = ${eventId}`)[0]!.n).toBe(1);
  });
});
