import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { Order, Problem, WebhookAnswer, WebhookIgnored } from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { RELEASED, SOLD, UNTOUCHED, providerFlows, type Flow } from './provider-flows.js';

/**
 * Stripe's own events end to end (issue 12): fixtures typed against the stripe package's types and
 * signed with its generateTestHeaderString, delivered to POST /api/webhooks/stripe of a real engine.
 * The endpoint secret is rotating: both the old and the new one verify.
 */

const OLD_SECRET = `whsec_old${'0'.repeat(24)}`;
const NEW_SECRET = `whsec_new${'1'.repeat(24)}`;
const FOREIGN_SECRET = `whsec_foreign${'2'.repeat(20)}`;
const PRICE = 1500;

test.override('engineEnv', { STRIPE_WEBHOOK_SECRET: `${OLD_SECRET},${NEW_SECRET}` });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const nowS = () => Math.floor(Date.now() / 1000);

/** A PaymentIntent as Stripe sends it (test mode, card, our ids in metadata). */
function paymentIntent(over: Partial<Stripe.PaymentIntent> = {}): Stripe.PaymentIntent {
  return {
    id: uniq('pi_'),
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: PRICE * 2,
    amount_capturable: 0,
    amount_received: PRICE * 2,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: null,
    cancellation_reason: null,
    capture_method: 'automatic',
    client_secret: null,
    confirmation_method: 'automatic',
    created: nowS(),
    currency: 'eur',
    customer: null,
    customer_account: null,
    description: null,
    excluded_payment_method_types: null,
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: null,
    metadata: {},
    next_action: null,
    on_behalf_of: null,
    payment_method: null,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: 'succeeded',
    transfer_group: null,
    ...over,
  };
}

/** A Checkout Session as Stripe sends it (payment mode, test mode). */
function checkoutSession(over: Partial<Stripe.Checkout.Session> = {}): Stripe.Checkout.Session {
  return {
    id: uniq('cs_test_'),
    object: 'checkout.session',
    adaptive_pricing: null,
    after_expiration: null,
    allow_promotion_codes: null,
    allowed_payment_method_types: null,
    amount_subtotal: PRICE * 2,
    amount_total: PRICE * 2,
    automatic_tax: { enabled: false, liability: null, provider: null, status: null },
    billing_address_collection: null,
    cancel_url: null,
    client_reference_id: null,
    client_secret: null,
    collected_information: null,
    consent: null,
    consent_collection: null,
    created: nowS(),
    currency: 'eur',
    currency_conversion: null,
    custom_fields: [],
    custom_text: { after_submit: null, shipping_address: null, submit: null, terms_of_service_acceptance: null },
    customer: null,
    customer_account: null,
    customer_creation: null,
    customer_details: null,
    customer_email: null,
    discounts: null,
    expires_at: nowS() + 3600,
    integration_identifier: null,
    invoice: null,
    invoice_creation: null,
    livemode: false,
    locale: null,
    managed_payments: null,
    metadata: {},
    mode: 'payment',
    origin_context: null,
    payment_intent: null,
    payment_link: null,
    payment_method_collection: null,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_status: 'paid',
    permissions: null,
    recovered_from: null,
    saved_payment_method_options: null,
    setup_intent: null,
    shipping_address_collection: null,
    shipping_cost: null,
    shipping_options: [],
    status: 'complete',
    submit_type: null,
    subscription: null,
    success_url: null,
    total_details: null,
    ui_mode: null,
    url: null,
    wallet_options: null,
    ...over,
  };
}

/** The event envelope around an object; the type parameter ties `type` to the object's kind. */
function stripeEvent<E extends Stripe.Event>(type: E['type'], object: E['data']['object'], livemode = false): E {
  return {
    id: uniq('evt_'),
    object: 'event',
    api_version: '2025-11-17.clover',
    created: nowS(),
    data: { object },
    livemode,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
  } as E;
}

const succeeded = (pi: Stripe.PaymentIntent) => stripeEvent<Stripe.PaymentIntentSucceededEvent>('payment_intent.succeeded', pi);

interface Sending {
  secret?: string;
  tamper?: (raw: string) => string;
  headers?: Record<string, string>;
}

function send(event: Stripe.Event, opts: Sending = {}): Promise<Response> {
  const raw = JSON.stringify(event);
  const signature = Stripe.webhooks.generateTestHeaderString({ payload: raw, secret: opts.secret ?? NEW_SECRET });
  return h.request('POST', '/api/webhooks/stripe', {
    body: opts.tamper ? opts.tamper(raw) : raw,
    headers: opts.headers ?? { 'stripe-signature': signature },
  });
}

/** A delivery the engine takes: what it did, or why nothing changed. */
const deliver = (event: Stripe.Event, opts?: Sending) => answer(send(event, opts), WebhookAnswer);
/** A delivery the engine refuses: the problem. */
const refused = (event: Stripe.Event, opts?: Sending) => answer(send(event, opts), Problem);

const { holdFor, orderFor, orderStatus, pgStatus, pgEvents, inbox } = providerFlows(() => h, PRICE);

describe('Stripe events', () => {
  it('payment_intent.succeeded with our order id: paid, in Postgres, the Stripe event id recorded', async () => {
    const f = await orderFor();
    const e = succeeded(paymentIntent({ metadata: { order_id: f.orderId } }));
    expect(await deliver(e)).toEqual({ status: 200, body: { result: 'applied', order_id: f.orderId, order_status: 'paid' } });
    expect(await orderStatus(f)).toBe('paid');
    expect(await h.stock(f.pid)).toEqual(SOLD);
    await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('paid');
    await expect.poll(() => pgEvents(f.holdId), { timeout: 10_000 }).toEqual({ [e.id]: 'applied' });
    // in the payments inbox as received, with its signature, and what it did
    await expect.poll(() => inbox(f.holdId), { timeout: 10_000 }).toMatchObject([{ event_id: e.id, provider: 'stripe', result: 'applied' }]);
    const [row] = await inbox(f.holdId);
    expect(JSON.parse(row!.raw_body)).toEqual(e);
    expect(Object.keys(row!.signatures)).toEqual(['stripe-signature']);
  });

  it.each([
    ['payment_intent.canceled', (m: Stripe.Metadata) => stripeEvent<Stripe.PaymentIntentCanceledEvent>('payment_intent.canceled', paymentIntent({ metadata: m, status: 'canceled', amount_received: 0 }))],
    ['checkout.session.expired', (m: Stripe.Metadata) => stripeEvent<Stripe.CheckoutSessionExpiredEvent>('checkout.session.expired', checkoutSession({ metadata: m, status: 'expired', payment_status: 'unpaid' }))],
    ['checkout.session.async_payment_failed', (m: Stripe.Metadata) => stripeEvent<Stripe.CheckoutSessionAsyncPaymentFailedEvent>('checkout.session.async_payment_failed', checkoutSession({ metadata: m, payment_status: 'unpaid' }))],
  ])('%s: payment_failed, the stock goes back', async (_, make) => {
    const f = await orderFor();
    expect(await deliver(make({ hold_id: f.holdId, order_id: f.orderId }))).toMatchObject({ status: 200, body: { result: 'applied', order_status: 'payment_failed' } });
    expect(await h.stock(f.pid)).toEqual(RELEASED);
    await expect.poll(() => pgStatus(f.orderId), { timeout: 10_000 }).toBe('payment_failed');
  });

  it('payment_intent.payment_failed (a declined attempt) changes nothing: the customer pays with another card, the order is paid', async () => {
    const f = await orderFor();
    const pi = paymentIntent({ metadata: { order_id: f.orderId } });
    const declined = stripeEvent<Stripe.PaymentIntentPaymentFailedEvent>('payment_intent.payment_failed', { ...pi, status: 'requires_payment_method', amount_received: 0 });
    const res = await answer(send(declined), WebhookIgnored);
    expect(res).toMatchObject({ status: 200, body: { result: 'ignored' } });
    expect(res.body.reason).toMatch(/requires_payment_method/);
    expect(await orderStatus(f)).toBe('pending_payment');
    expect(await h.stock(f.pid)).toEqual(UNTOUCHED);
    expect(await inbox(f.holdId)).toEqual([]);
    // the same PaymentIntent, confirmed again with another card
    expect(await deliver(succeeded(pi))).toMatchObject({ status: 200, body: { result: 'applied', order_status: 'paid' } });
    expect(await h.stock(f.pid)).toEqual(SOLD);
  });

  it.each([
    ['checkout.session.completed, paid', () => stripeEvent<Stripe.CheckoutSessionCompletedEvent>('checkout.session.completed', checkoutSession())],
    ['checkout.session.async_payment_succeeded', () => stripeEvent<Stripe.CheckoutSessionAsyncPaymentSucceededEvent>('checkout.session.async_payment_succeeded', checkoutSession())],
  ])('%s: paid', async (_, make) => {
    const f = await orderFor();
    const e = make();
    e.data.object.metadata = { order_id: f.orderId };
    expect(await deliver(e)).toMatchObject({ status: 200, body: { result: 'applied', order_status: 'paid' } });
    expect(await h.stock(f.pid)).toEqual(SOLD);
  });

  it('a checkout completed with a payment still settling changes nothing; its async success pays', async () => {
    const f = await orderFor();
    const session = checkoutSession({ metadata: { order_id: f.orderId }, payment_status: 'unpaid' });
    expect(await deliver(stripeEvent<Stripe.CheckoutSessionCompletedEvent>('checkout.session.completed', session))).toMatchObject({ status: 200, body: { result: 'ignored' } });
    expect(await h.stock(f.pid)).toEqual(UNTOUCHED);
    const settled = stripeEvent<Stripe.CheckoutSessionAsyncPaymentSucceededEvent>('checkout.session.async_payment_succeeded', { ...session, payment_status: 'paid' });
    expect(await deliver(settled)).toMatchObject({ body: { result: 'applied', order_status: 'paid' } });
  });

  it('an event before the order (the hold id in metadata) is deferred and applied when the order is created', async () => {
    const f = await holdFor();
    expect(await deliver(succeeded(paymentIntent({ metadata: { hold_id: f.holdId } })))).toMatchObject({ status: 200, body: { result: 'deferred' } });
    const res = await answer(h.request('POST', '/api/orders', { token: h.token(f.user), body: { hold_id: f.holdId } }), Order);
    expect(res.status).toBe(201);
    const order = res.body;
    expect(order.status).toBe('paid');
    expect(await h.stock(f.pid)).toEqual(SOLD);
    await expect.poll(() => pgStatus(order.id), { timeout: 10_000 }).toBe('paid');
  });

  it('the same event id delivered again, or 20 times at once: one effect', async () => {
    const f = await orderFor();
    const e = succeeded(paymentIntent({ metadata: { order_id: f.orderId } }));
    const results = await Promise.all(Array.from({ length: 20 }, () => deliver(e)));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.body.result === 'applied')).toHaveLength(1);
    expect(results.filter((r) => r.body.result === 'duplicate')).toHaveLength(19);
    expect((await deliver(e, { secret: OLD_SECRET })).body.result).toBe('duplicate');
    expect(await h.stock(f.pid)).toEqual(SOLD);
    await expect.poll(() => pgEvents(f.holdId), { timeout: 10_000 }).toEqual({ [e.id]: 'applied' });
  });

  it.each([
    ['an event type we do not use', (f: Flow) => stripeEvent<Stripe.PaymentIntentCreatedEvent>('payment_intent.created', paymentIntent({ metadata: { order_id: f.orderId }, status: 'requires_payment_method' })), /payment_intent.created is not used/],
    ['another business\'s payment (no ids in metadata)', () => succeeded(paymentIntent({ metadata: { cart: '42' } })), /not a flash-sale payment/],
    ['a live-mode event on a test-mode engine', (f: Flow) => stripeEvent<Stripe.PaymentIntentSucceededEvent>('payment_intent.succeeded', paymentIntent({ metadata: { order_id: f.orderId }, livemode: true }), true), /live-mode event/],
  ])('%s: 200 ignored, nothing changes', async (_, make, reason) => {
    const f = await orderFor();
    const res = await answer(send(make(f)), WebhookIgnored);
    expect(res).toMatchObject({ status: 200, body: { result: 'ignored' } });
    expect(res.body.reason).toMatch(reason);
    expect(await orderStatus(f)).toBe('pending_payment');
    expect(await h.stock(f.pid)).toEqual(UNTOUCHED);
  });

  it('an amount that is not the order\'s: 422 amount_mismatch, order unchanged', async () => {
    const f = await orderFor();
    const res = await refused(succeeded(paymentIntent({ metadata: { order_id: f.orderId }, amount: 100, amount_received: 100 })));
    expect(res).toMatchObject({ status: 422, body: { code: 'amount_mismatch', expected_amount_minor: PRICE * 2 } });
    expect(await orderStatus(f)).toBe('pending_payment');
  });
});

describe('Stripe signatures', () => {
  const stripeSigned = (secret: string) => (raw: string) => ({ 'stripe-signature': Stripe.webhooks.generateTestHeaderString({ payload: raw, secret }) });
  it.each([
    ['the body changed after signing', stripeSigned(NEW_SECRET), (raw: string) => raw.replace(`"amount_received":${PRICE * 2}`, `"amount_received":${PRICE * 2 + 1}`)],
    ['another endpoint\'s secret', stripeSigned(FOREIGN_SECRET)],
    ['no Stripe-Signature', () => ({})],
    ['our generic Payment-Signature instead', (raw: string) => ({ 'payment-signature': signPayload(WEBHOOK_SECRET, raw) })],
  ] as [string, (raw: string) => Record<string, string>, ((raw: string) => string)?][])('%s: 401 invalid_signature, nothing applied', async (_, headers, tamper) => {
    const f = await orderFor();
    const e = succeeded(paymentIntent({ metadata: { order_id: f.orderId } }));
    const raw = JSON.stringify(e);
    if (tamper) expect(tamper(raw)).not.toBe(raw);
    expect(await refused(e, { headers: headers(raw), ...(tamper ? { tamper } : {}) })).toMatchObject({ status: 401, body: { code: 'invalid_signature' } });
    expect(await h.stock(f.pid)).toEqual(UNTOUCHED);
    // nothing recorded: the genuine delivery still applies
    expect((await deliver(e)).body.result).toBe('applied');
  });

  it('during rotation the old and the new secret both verify', async () => {
    for (const secret of [OLD_SECRET, NEW_SECRET]) {
      const f = await orderFor();
      expect((await deliver(succeeded(paymentIntent({ metadata: { order_id: f.orderId } })), { secret })).body.result).toBe('applied');
    }
  });
});

describe('the provider routes', () => {
  it('/api/webhooks/generic is today\'s /api/webhooks/payment', async () => {
    const f = await orderFor();
    const raw = JSON.stringify({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: f.holdId, amount_minor: PRICE * 2, currency: 'EUR' });
    const res = h.request('POST', '/api/webhooks/generic', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
    expect(await body(res, WebhookAnswer)).toMatchObject({ result: 'applied', order_status: 'paid' });
  });

  it('a Stripe event id sent again through another provider\'s route is refused: 422, one effect', async () => {
    const f = await orderFor();
    const e = succeeded(paymentIntent({ metadata: { order_id: f.orderId } }));
    expect((await deliver(e)).body).toMatchObject({ result: 'applied' });
    const raw = JSON.stringify({ event_id: e.id, type: 'payment.succeeded', hold_id: f.holdId, order_id: f.orderId, amount_minor: PRICE * 2, currency: 'EUR' });
    const res = await answer(h.request('POST', '/api/webhooks/generic', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } }), Problem);
    expect(res).toMatchObject({ status: 422, body: { code: 'idempotency_key_reused' } });
    expect(await h.stock(f.pid)).toEqual(SOLD);
    expect((await inbox(f.holdId)).map((r) => r.provider)).toEqual(['stripe']);
  });

  it.each(['adyen', 'paypal'])('a provider without a configured secret (%s) has no route: 404 not_found', async (name) => {
    const res = await answer(h.request('POST', `/api/webhooks/${name}`, { body: '{}', headers: { 'stripe-signature': 'x' } }), Problem);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'not_found' });
  });
});
