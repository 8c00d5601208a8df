import { describe, expect, it } from 'vitest';
import { Hold, Order, PaymentOutcome } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';

/**
 * A product's Redis keys come back from an older copy (a replica that lagged, an older AOF) while its
 * outbox still holds what that copy had not drained. Draining that outbox must not move the copy's
 * progress mark up to the one Postgres recorded, or the check before the product is served no longer
 * sees the copy as older, and an acknowledged payment stays lost in Redis.
 */
test.override('harnessOptions', { inProcess: true });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const productKeys = (pid: string) => h.redis.keys(`${h.config.KEY_PREFIX}:{p:${pid}}*`);

async function paidThenRestoredFromOlderCopy(drainBeforeCheck: boolean) {
  const engine = h.runtime.engine;
  const pid = await h.createProduct({ stock: 5, unit_price_minor: 700 });
  const [tokenA, tokenB] = [h.token(uniq('a')), h.token(uniq('b'))];
  const holdA = await body(h.request('POST', '/api/holds', { token: tokenA, body: { product_id: pid, qty: 2 } }), Hold);
  const orderA = await body(h.request('POST', '/api/orders', { token: tokenA, body: { hold_id: holdA.id } }), Order);
  await engine.persistence.drain(pid);
  // another order, not yet drained when the copy is taken
  const holdB = await body(h.request('POST', '/api/holds', { token: tokenB, body: { product_id: pid, qty: 1 } }), Hold);
  await body(h.request('POST', '/api/orders', { token: tokenB, body: { hold_id: holdB.id } }), Order);
  const copy = await Promise.all((await productKeys(pid)).map(async (key) => ({ key, dump: await h.redis.dumpBuffer(key) })));

  const raw = JSON.stringify({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: holdA.id, amount_minor: 1400, currency: 'EUR' });
  const headers = { 'content-type': 'application/json', 'payment-signature': signPayload(WEBHOOK_SECRET, raw) };
  expect((await answer(h.request('POST', '/api/webhooks/payment', { body: raw, headers }), PaymentOutcome)).status).toBe(200);
  await engine.persistence.drain(pid);
  expect((await h.sql`SELECT status FROM orders WHERE id = ${orderA.id}`)[0]!.status).toBe('paid');

  // the product's keys come back from the copy
  await h.redis.del(...(await productKeys(pid)));
  for (const { key, dump } of copy) if (dump) await h.redis.restore(key, 0, dump);
  // the worker's drain is not gated: it may run before the check
  if (drainBeforeCheck) await engine.persistence.drain(pid);
  // what the API does before it serves the product after a reconnect
  expect(await engine.recovery.ensure(pid)).toBe(true);

  expect((await body(h.request('GET', `/api/orders/${orderA.id}`, { token: tokenA }), Order)).status).toBe('paid');
  expect(await h.stock(pid)).toMatchObject({ sold: 2 });
}

describe('Redis keys back from an older copy with an outbox not yet drained', () => {
  it('the check before the product is served finds the copy older and rebuilds it: the paid order stays paid', async () => {
    await paidThenRestoredFromOlderCopy(false);
  });

  it('the same when the worker drained the copy\'s outbox first', async () => {
    await paidThenRestoredFromOlderCopy(true);
  });
});
