import { describe, expect, inject, it } from 'vitest';
import { InboxRecovery, Order, Problem } from '../../src/contract.js';
import { adyenSignature } from '../../src/http/webhooks/adyen.js';
import { formatId, parseId } from '../../src/redis/keys.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, startHarness, uniq, type Harness } from '../support/harness.js';
import { keptLogLines } from '../support/log-lines.js';
import { startTcpProxy } from '../support/tcp-proxy.js';
import { RELEASED, SOLD, UNTOUCHED, providerFlows, type Flow } from './provider-flows.js';

/**
 * Adyen standard webhooks end to end (issue 12): notification items signed one by one with the
 * webhook's hex HMAC key, delivered to POST /api/webhooks/adyen of a real engine, which answers
 * `[accepted]`. The HMAC key is rotating: both the old and the new one verify.
 */

const OLD_KEY = '0A'.repeat(32);
const NEW_KEY = 'B1'.repeat(32);
const FOREIGN_KEY = 'C2'.repeat(32);
const PRICE = 1500;

test.override('engineEnv', { ADYEN_WEBHOOK_SECRET: `${OLD_KEY},${NEW_KEY}` });
/** what the engine logs, line by line */
const { logger, lines: logged } = keptLogLines();
test.override('harnessOptions', { logger });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

/** A NotificationRequestItem as Adyen documents it. */
interface NotificationRequestItem {
  pspReference: string;
  originalReference?: string;
  merchantAccountCode: string;
  merchantReference: string;
  amount: { value: number; currency: string };
  eventCode: string;
  eventDate: string;
  success: 'true' | 'false';
  paymentMethod: string;
  operations?: string[];
  reason?: string;
  additionalData: Record<string, string>;
}

function item(over: Partial<NotificationRequestItem> = {}, key = NEW_KEY): NotificationRequestItem {
  const unsigned: NotificationRequestItem = {
    pspReference: uniq('psp').toUpperCase(),
    merchantAccountCode: 'FlashSaleECOM',
    merchantReference: uniq('shop-ref-'),
    amount: { value: PRICE * 2, currency: 'EUR' },
    eventCode: 'AUTHORISATION',
    eventDate: new Date().toISOString(),
    success: 'true',
    paymentMethod: 'visa',
    operations: ['CANCEL', 'CAPTURE', 'REFUND'],
    reason: '033899:1111:03/2030',
    additionalData: {},
    ...over,
  };
  return { ...unsigned, additionalData: { ...unsigned.additionalData, hmacSignature: adyenSignature(unsigned, key) } };
}

const notification = (items: NotificationRequestItem[], live = 'false') => ({ live, notificationItems: items.map((NotificationRequestItem) => ({ NotificationRequestItem })) });

const send = (notification: unknown, on = h) => on.request('POST', '/api/webhooks/adyen', { body: JSON.stringify(notification) });

/** A delivery the engine takes answers Adyen's `[accepted]` in plain text. */
async function deliver(notification: unknown, on = h): Promise<{ status: number; text: string }> {
  const res = await send(notification, on);
  const text = await res.text();
  if (res.status === 200) expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  return { status: res.status, text };
}
const ACCEPTED = { status: 200, text: '[accepted]' };
/** A delivery the engine refuses: the problem. */
const refused = (notification: unknown) => answer(send(notification), Problem);

const { holdFor, orderFor, orderStatus, pgStatus, pgEvents, inbox } = providerFlows(() => h, PRICE);

describe('the Adyen HMAC', () => {
  it('matches the example Adyen publishes with its libraries', () => {
    const example = {
      pspReference: '7914073381342284',
      merchantAccountCode: 'TestMerchant',
      merchantReference: 'TestPayment-1407325143704',
      amount: { value: 1130, currency: 'EUR' },
      eventCode: 'AUTHORISATION',
      success: 'true' as const,
    };
    expect(adyenSignature(example, 'DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00')).toBe('Ny9gS2veKo5E4w8/OL6xz1/wvT/hYkAXy1xNc/QvO4I=');
  });
});

describe('Adyen notifications', () => {
  it('AUTHORISATION success with our order id as merchantReference: paid, in Postgres, [accepted]', async () => {
    const f = await orderFor();
    const paid = item({ merchantReference: f.orderId });
    expect(await deliver(notification([paid]))).toEqual(ACCEPTED);
    expect(await orderStatus(f)).toBe('paid');
    expect(await h.stock(f.pid)).toEqual(SOLD);
    await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('paid');
    await expect.poll(() => pgEvents(f.holdId), { timeout: 10_000 }).toEqual({ [`${paid.pspReference}:AUTHORISATION:true`]: 'applied' });
  });

  it('AUTHORISATION failure with our hold id as merchantReference: payment_failed, the stock goes back', async () => {
    const f = await orderFor();
    expect(await deliver(notification([item({ merchantReference: f.holdId, success: 'false', reason: 'Refused' })]))).toEqual(ACCEPTED);
    expect(await orderStatus(f)).toBe('payment_failed');
    expect(await h.stock(f.pid)).toEqual(RELEASED);
    await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('payment_failed');
  });

  it('an authorisation before the order (the hold id as merchantReference) is deferred and applied when the order is created', async () => {
    const f = await holdFor();
    expect(await deliver(notification([item({ merchantReference: f.holdId })]))).toEqual(ACCEPTED);
    expect(await h.stock(f.pid)).toMatchObject({ held: 2, sold: 0 });
    const order = await body(h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } }), Order);
    expect(order.status).toBe('paid');
    await expect.poll(() => pgStatus(order.id), { timeout: 10_000 }).toBe('paid');
  });

  it('the same notification again, or 10 times at once: one effect', async () => {
    const f = await orderFor();
    const again = notification([item({ merchantReference: f.orderId })]);
    const results = await Promise.all(Array.from({ length: 10 }, () => deliver(again)));
    expect(results).toEqual(Array.from({ length: 10 }, () => ACCEPTED));
    expect(await deliver(again)).toEqual(ACCEPTED);
    expect(await h.stock(f.pid)).toEqual(SOLD);
    await expect.poll(async () => Object.values(await pgEvents(f.holdId)), { timeout: 10_000 }).toEqual(['applied']);
  });

  it('a batch of items is applied item by item, each item in the payments inbox with the batch as received', async () => {
    const [a, b] = [await orderFor(), await orderFor()];
    const batch = notification([item({ merchantReference: a.orderId }), item({ merchantReference: b.orderId, success: 'false' })]);
    expect(await deliver(batch)).toEqual(ACCEPTED);
    expect(await orderStatus(a)).toBe('paid');
    expect(await orderStatus(b)).toBe('payment_failed');
    for (const f of [a, b]) {
      await expect.poll(() => inbox(f.holdId), { timeout: 10_000 }).toMatchObject([{ provider: 'adyen', result: 'applied' }]);
      // each item carries its own signature in the body: no signature header to keep
      expect(await inbox(f.holdId)).toMatchObject([{ raw_body: JSON.stringify(batch), signatures: {} }]);
    }
  });

  it('our ids in the unsigned metadata of a signed item of another payment: ignored, the order stays unpaid', async () => {
    const f = await orderFor();
    // a genuine item (the shop's own reference, the order's amount) with ids added where the HMAC does not reach
    const genuine = item();
    const forged = { ...genuine, additionalData: { ...genuine.additionalData, 'metadata.order_id': f.orderId, 'metadata.hold_id': f.holdId } };
    expect(await deliver(notification([forged]))).toEqual(ACCEPTED);
    expect(await orderStatus(f)).toBe('pending_payment');
    expect(await h.stock(f.pid)).toEqual(UNTOUCHED);
    expect(await inbox(f.holdId)).toEqual([]);
  });

  it.each([
    ['CAPTURE (an event code we do not use)', (f: Flow) => notification([item({ merchantReference: f.orderId, eventCode: 'CAPTURE', originalReference: 'ORIGINALPSP' })])],
    ['another business\'s payment (no ids)', () => notification([item()])],
    ['a live notification on a test engine', (f: Flow) => notification([item({ merchantReference: f.orderId })], 'true')],
  ])('%s: [accepted], nothing changes', async (_, make) => {
    const f = await orderFor();
    expect(await deliver(make(f))).toEqual(ACCEPTED);
    expect(await orderStatus(f)).toBe('pending_payment');
    expect(await h.stock(f.pid)).toEqual(UNTOUCHED);
  });
});

describe('a batch with an item the engine refuses', () => {
  /**
   * The refused item first, then one that pays another order: Adyen cannot be told about one item, so the
   * batch is [accepted] (sent twice, as a resend would be) and the other item pays. Returns that order.
   */
  async function refusedFirst(refused: NotificationRequestItem): Promise<Flow> {
    const b = await orderFor();
    const batch = notification([refused, item({ merchantReference: b.orderId })]);
    for (let i = 0; i < 2; i++) expect(await deliver(batch)).toEqual(ACCEPTED);
    expect(await orderStatus(b)).toBe('paid');
    expect(await h.stock(b.pid)).toEqual(SOLD);
    await expect.poll(() => inbox(b.holdId), { timeout: 10_000 }).toMatchObject([{ provider: 'adyen', result: 'applied' }]);
    return b;
  }

  it('not the order\'s amount (422 amount_mismatch): the order unchanged, the mismatch recorded in the inbox and payment_events', async () => {
    const a = await orderFor();
    const mismatched = item({ merchantReference: a.orderId, amount: { value: 1, currency: 'EUR' } });
    await refusedFirst(mismatched);
    expect(await orderStatus(a)).toBe('pending_payment');
    expect(await h.stock(a.pid)).toEqual(UNTOUCHED);
    await expect.poll(() => inbox(a.holdId), { timeout: 10_000 }).toMatchObject([{ provider: 'adyen', result: 'amount_mismatch' }]);
    expect(await pgEvents(a.holdId)).toEqual({ [`${mismatched.pspReference}:AUTHORISATION:true`]: 'amount_mismatch' });
  });

  it('an order the engine does not know (404 hold_not_found): kept in the inbox, which asks for its refund', async () => {
    const a = await orderFor();
    // the next order of the same product, never placed
    const ref = parseId('o', a.orderId)!;
    const unknown = { ...ref, seq: String(Number(ref.seq) + 1) };
    await refusedFirst(item({ merchantReference: formatId('o', unknown) }));
    expect(await inbox(formatId('h', unknown))).toMatchObject([{ provider: 'adyen' }]);
    const reapply = () => answer(h.request('POST', '/api/admin/payments/reapply', { token: ADMIN_TOKEN }), InboxRecovery);
    await expect.poll(async () => (await reapply(), (await inbox(formatId('h', unknown)))[0]?.result), { timeout: 10_000 }).toBe('refund_required');
  });

  it('a currency that is no ISO 4217 code (400 invalid_request): nothing of it applied', async () => {
    const a = await orderFor();
    await refusedFirst(item({ merchantReference: a.orderId, amount: { value: PRICE * 2, currency: 'EURO' } }));
    expect(await orderStatus(a)).toBe('pending_payment');
    expect(await h.stock(a.pid)).toEqual(UNTOUCHED);
  });
});

describe('a batch the engine cannot finish', () => {
  it('Redis unreachable: 503, so that Adyen resends it; every item was stored first, and the resend applies them', async () => {
    const redis = new URL(inject('redisUrl'));
    const redisProxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    // closed before its proxy: an engine closing without Redis waits for it
    const cut = await startHarness({ ADYEN_WEBHOOK_SECRET: NEW_KEY, REDIS_URL: redisProxy.wrap(redis.href) }, { inProcess: true });
    try {
      const flows = providerFlows(() => cut, PRICE);
      const [a, b] = [await flows.orderFor(), await flows.orderFor()];
      const batch = notification([item({ merchantReference: a.orderId }), item({ merchantReference: b.orderId })]);
      redisProxy.cut();
      const res = await answer(send(batch, cut), Problem);
      expect(res).toMatchObject({ status: 503, body: { code: 'unavailable' } });
      for (const f of [a, b]) expect(await flows.inbox(f.holdId)).toMatchObject([{ provider: 'adyen', result: null }]);
      redisProxy.restore();
      // Adyen's resends, until the engine has its Redis connection back
      await expect.poll(async () => (await deliver(batch, cut)).text, { timeout: 10_000 }).toBe('[accepted]');
      for (const f of [a, b]) expect(await flows.orderStatus(f)).toBe('paid');
    } finally {
      redisProxy.restore();
      await cut.close();
      await redisProxy.close();
    }
  });
});

describe('Adyen signatures', () => {
  const tamperAmount = (i: NotificationRequestItem): NotificationRequestItem => ({ ...i, amount: { ...i.amount, value: i.amount.value + 1 } });
  it.each([
    ['a key that is not ours', (f: Flow) => [item({ merchantReference: f.orderId }, FOREIGN_KEY)]],
    ['the amount changed after signing', (f: Flow) => [tamperAmount(item({ merchantReference: f.orderId }))]],
    ['the reference changed after signing', (f: Flow) => [{ ...item({ merchantReference: f.holdId }), merchantReference: f.orderId }]],
    ['no hmacSignature', (f: Flow) => [{ ...item({ merchantReference: f.orderId }), additionalData: {} }]],
    ['one bad item in a batch (nothing of the batch applies)', (f: Flow) => [item({ merchantReference: f.orderId }), item({ merchantReference: 'x' }, FOREIGN_KEY)]],
  ])('%s: 401 invalid_signature, nothing applied', async (_, make) => {
    const f = await orderFor();
    const res = await refused(notification(make(f)));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'invalid_signature' });
    expect(await h.stock(f.pid)).toEqual(UNTOUCHED);
  });

  it('during rotation the old and the new key both verify', async () => {
    for (const key of [OLD_KEY, NEW_KEY]) {
      const f = await orderFor();
      expect(await deliver(notification([item({ merchantReference: f.orderId }, key)]))).toEqual(ACCEPTED);
      expect(await orderStatus(f)).toBe('paid');
    }
  });
});

describe('log lines', () => {
  it('the lines a delivery logs of its items carry its request id', async () => {
    const f = await orderFor();
    const reqId = uniq('req');
    const ignored = item({ merchantReference: f.orderId, eventCode: 'CAPTURE', originalReference: 'ORIGINALPSP' });
    const invalid = item({ merchantReference: f.orderId, amount: { value: PRICE * 2, currency: 'EURO' } });
    const from = logged.length;
    const res = await h.request('POST', '/api/webhooks/adyen', { body: JSON.stringify(notification([ignored, invalid])), headers: { 'x-request-id': reqId } });
    expect(await res.text()).toBe('[accepted]');
    const lines = logged.slice(from).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('payment event'));
    expect(lines.map((l) => [l.msg, l.reqId])).toEqual([
      ['payment event ignored', reqId],
      ['payment event refused; acknowledged with its batch', reqId],
    ]);
  });
});
