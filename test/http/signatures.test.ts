import { createHmac } from 'node:crypto';
import { Hold, Order, PaymentOutcome, Problem, type OrderStatus } from '../../src/contract.js';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { answer, body } from '../support/answers.js';

/**
 * SPEC "Payment webhooks": `Payment-Signature: t=<unix s>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`,
 * several v1 for rotation, |now - t| <= 300 s. Every refused delivery is 401 invalid_signature and leaves
 * the order pending_payment (and records nothing: the same event, correctly signed, still applies).
 */

let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const OTHER_SECRET = 'an-old-or-foreign-secret-0123456789';
const nowS = () => Math.floor(Date.now() / 1000);
const hmacHex = (secret: string, t: number | string, raw: string) => createHmac('sha256', secret).update(`${t}.${raw}`).digest('hex');

/** Waits until early in a second, so a timestamp at exactly ±301 / ±299 s cannot slide across the boundary. */
async function earlyInSecond(): Promise<void> {
  const ms = Date.now() % 1000;
  if (ms > 700) await new Promise((r) => setTimeout(r, 1000 - ms + 5));
}

interface PendingOrder {
  pid: string;
  userToken: string;
  orderId: string;
  /** the raw webhook body paying this order */
  raw: string;
}

/** A real order waiting for payment, and the webhook body that pays it. */
async function pendingOrder(): Promise<PendingOrder> {
  const pid = await h.createProduct({ stock: 5, unit_price_minor: 1999, currency: 'EUR' });
  const userToken = h.token(uniq('buyer'));
  const hold = await h.request('POST', '/api/holds', { token: userToken, body: { product_id: pid, qty: 2 } });
  expect(hold.status).toBe(201);
  const holdId = (await body(hold, Hold)).id;
  const order = await h.request('POST', '/api/orders', { token: userToken, body: { hold_id: holdId } });
  expect(order.status).toBe(201);
  const o = await body(order, Order);
  expect(o).toMatchObject({ total_minor: 3998, status: 'pending_payment' });
  const raw = JSON.stringify({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: holdId, amount_minor: o.total_minor, currency: o.currency });
  return { pid, userToken, orderId: o.id, raw };
}

function deliver(raw: string, headers: Record<string, string>): Promise<Response> {
  return h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'content-type': 'application/json', ...headers } });
}

async function orderStatus(o: PendingOrder): Promise<OrderStatus> {
  const res = await h.request('GET', `/api/orders/${o.orderId}`, { token: o.userToken });
  expect(res.status).toBe(200);
  return (await body(res, Order)).status;
}

async function expectApplied(res: Response, o: PendingOrder): Promise<void> {
  const outcome = await answer(res, PaymentOutcome);
  expect(outcome.status, JSON.stringify(outcome.body)).toBe(200);
  expect(outcome.body).toMatchObject({ result: 'applied', order_id: o.orderId, order_status: 'paid' });
  expect(await orderStatus(o)).toBe('paid');
  expect(await h.stock(o.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
}

async function expectRefused(res: Response, o: PendingOrder): Promise<void> {
  const { status, body: problem } = await answer(res, Problem);
  expect(status, JSON.stringify(problem)).toBe(401);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json(\s*;|$)/);
  expect(problem).toMatchObject({ status: 401, code: 'invalid_signature' });
  for (const field of ['type', 'title', 'detail'] as const) expect(typeof problem[field]).toBe('string');
  expect(await orderStatus(o)).toBe('pending_payment');
  expect(await h.stock(o.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 2, sold: 0 });
}

interface Case {
  name: string;
  /** the headers to send, given the body that will be sent */
  headers(raw: string): Record<string, string>;
  /** the body actually sent, when it differs from the one signed */
  tamper?(raw: string): string;
}

const accepted: Case[] = [
  { name: 'valid signature, now', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }) },
  { name: 'within tolerance: t = now - 299', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw, nowS() - 299) }) },
  { name: 'within tolerance: t = now + 299', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw, nowS() + 299) }) },
  { name: 'rotated secret: old v1 first, right v1 second', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v1=${hmacHex(OTHER_SECRET, t, raw)},v1=${hmacHex(WEBHOOK_SECRET, t, raw)}` };
  } },
  { name: 'rotated secret: right v1 first, old v1 second', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v1=${hmacHex(WEBHOOK_SECRET, t, raw)},v1=${hmacHex(OTHER_SECRET, t, raw)}` };
  } },
  { name: 'an unknown scheme (v0) next to a good v1 is ignored', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v0=${hmacHex(OTHER_SECRET, t, raw)},v1=${hmacHex(WEBHOOK_SECRET, t, raw)}` };
  } },
  { name: 'stripe generateTestHeaderString as Payment-Signature', headers: (raw) => ({
    'payment-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: WEBHOOK_SECRET }),
  }) },
  { name: 'stripe generateTestHeaderString as Stripe-Signature', headers: (raw) => ({
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: WEBHOOK_SECRET }),
  }) },
  { name: 'stripe generateTestHeaderString with an explicit timestamp 200 s old, as Stripe-Signature', headers: (raw) => ({
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: WEBHOOK_SECRET, timestamp: nowS() - 200 }),
  }) },
];

const refused: Case[] = [
  { name: 'missing header', headers: () => ({}) },
  { name: 'empty header', headers: () => ({ 'payment-signature': '' }) },
  { name: 'wrong secret', headers: (raw) => ({ 'payment-signature': signPayload(OTHER_SECRET, raw) }) },
  { name: 'stale: t = now - 301', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw, nowS() - 301) }) },
  { name: 'future: t = now + 301', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw, nowS() + 301) }) },
  { name: 'ancient: t = 0', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw, 0) }) },
  { name: 't in milliseconds', headers: (raw) => {
    const t = Date.now();
    return { 'payment-signature': `t=${t},v1=${hmacHex(WEBHOOK_SECRET, t, raw)}` };
  } },
  { name: 'no t', headers: (raw) => ({ 'payment-signature': `v1=${hmacHex(WEBHOOK_SECRET, nowS(), raw)}` }) },
  { name: 'no v1', headers: () => ({ 'payment-signature': `t=${nowS()}` }) },
  { name: 'garbage', headers: () => ({ 'payment-signature': 'garbage' }) },
  { name: 'garbage with separators', headers: () => ({ 'payment-signature': ',,=,t=,v1=,' }) },
  { name: 'non-hex v1', headers: () => ({ 'payment-signature': `t=${nowS()},v1=${'zz'.repeat(32)}` }) },
  { name: 'truncated v1', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v1=${hmacHex(WEBHOOK_SECRET, t, raw).slice(0, 63)}` };
  } },
  { name: 'v1 with an extra byte', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v1=${hmacHex(WEBHOOK_SECRET, t, raw)}00` };
  } },
  { name: 'v1 as base64 instead of hex', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v1=${createHmac('sha256', WEBHOOK_SECRET).update(`${t}.${raw}`).digest('base64')}` };
  } },
  { name: 'duplicate t', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},t=${t},v1=${hmacHex(WEBHOOK_SECRET, t, raw)}` };
  } },
  { name: 'duplicate t, second one is the signed one', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t - 1000},t=${t},v1=${hmacHex(WEBHOOK_SECRET, t, raw)}` };
  } },
  { name: 'good HMAC under scheme v0 only', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v0=${hmacHex(WEBHOOK_SECRET, t, raw)}` };
  } },
  { name: 'HMAC of the body alone (no "<t>." prefix)', headers: (raw) => ({
    'payment-signature': `t=${nowS()},v1=${createHmac('sha256', WEBHOOK_SECRET).update(raw).digest('hex')}`,
  }) },
  { name: 'HMAC-SHA512 truncated to 64 hex', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v1=${createHmac('sha512', WEBHOOK_SECRET).update(`${t}.${raw}`).digest('hex').slice(0, 64)}` };
  } },
  { name: 'rotation with two wrong secrets', headers: (raw) => {
    const t = nowS();
    return { 'payment-signature': `t=${t},v1=${hmacHex(OTHER_SECRET, t, raw)},v1=${hmacHex(`${OTHER_SECRET}2`, t, raw)}` };
  } },
  { name: 'body changed by one byte after signing (amount)', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }),
    tamper: (raw) => raw.replace(/"amount_minor":(\d)/, (_, d: string) => `"amount_minor":${(Number(d) + 1) % 10}`) },
  { name: 'body changed by one byte after signing (trailing space)', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }),
    tamper: (raw) => `${raw} ` },
  { name: 'body re-serialised with other whitespace', headers: (raw) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }),
    tamper: (raw) => JSON.stringify(JSON.parse(raw), null, 1) },
  { name: 'signature of another body replayed', headers: () => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, '{"event_id":"x"}') }) },
  { name: 'stripe generateTestHeaderString with another secret, as Payment-Signature', headers: (raw) => ({
    'payment-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: OTHER_SECRET }),
  }) },
  { name: 'stripe generateTestHeaderString with another secret, as Stripe-Signature', headers: (raw) => ({
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: OTHER_SECRET }),
  }) },
  { name: 'stripe generateTestHeaderString, timestamp 301 s old', headers: (raw) => ({
    'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: WEBHOOK_SECRET, timestamp: nowS() - 301 }),
  }) },
];

describe('the stripe package signs the way SPEC says', () => {
  it('generateTestHeaderString = t=<s>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>', () => {
    const t = nowS();
    expect(Stripe.webhooks.generateTestHeaderString({ payload: '{"a":1}', secret: WEBHOOK_SECRET, timestamp: t })).toBe(
      signPayload(WEBHOOK_SECRET, '{"a":1}', t),
    );
  });
});

describe.each(accepted)('accepted: $name', (c) => {
  it('200 applied, order paid, stock sold', async () => {
    const o = await pendingOrder();
    await earlyInSecond();
    await expectApplied(await deliver(o.raw, c.headers(o.raw)), o);
  });
});

describe.each(refused)('refused: $name', (c) => {
  it('401 invalid_signature, order still pending_payment, nothing recorded', async () => {
    const o = await pendingOrder();
    await earlyInSecond();
    const sent = c.tamper ? c.tamper(o.raw) : o.raw;
    if (c.tamper) expect(sent).not.toBe(o.raw);
    await expectRefused(await deliver(sent, c.headers(o.raw)), o);
    // the refused delivery left no trace: the same event, properly signed, is applied (not a duplicate)
    await expectApplied(await deliver(o.raw, { 'payment-signature': signPayload(WEBHOOK_SECRET, o.raw) }), o);
  });
});

describe('over a real socket', () => {
  it('a Stripe-signed delivery is accepted and a forged one refused', async () => {
    const o = await pendingOrder();
    const post = (headers: Record<string, string>) =>
      fetch(`${h.url}/api/webhooks/payment`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: o.raw });
    await expectRefused(await post({ 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: o.raw, secret: OTHER_SECRET }) }), o);
    await expectApplied(await post({ 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: o.raw, secret: WEBHOOK_SECRET }) }), o);
    // the same delivery again: one effect only
    const again = await post({ 'payment-signature': signPayload(WEBHOOK_SECRET, o.raw) });
    expect(again.status).toBe(200);
    expect(await body(again, PaymentOutcome)).toMatchObject({ result: 'duplicate' });
    expect(await h.stock(o.pid)).toEqual({ total: 5, available: 3, held: 0, pending_payment: 0, sold: 2 });
  });
});
