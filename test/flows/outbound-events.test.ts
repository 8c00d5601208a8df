import { Webhook } from 'standardwebhooks';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  CreatedWebhookEndpoint,
  Hold,
  Order,
  Problem,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
  type OutboundEventType,
} from '../../src/contract.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { answer, body } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { registerEndpoint, verified } from '../support/outbound.js';

// three attempts, milliseconds apart, a short request timeout and an overdue check that runs often
test.override('engineEnv', { WEBHOOK_RETRY_SCHEDULE_MS: '0,100,200', WEBHOOK_TIMEOUT_MS: '500', SWEEP_INTERVAL_MS: '1000' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

const admin = (method: string, path: string, payload?: unknown) => h.request(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body: payload });

const endpointFor = (events: OutboundEventType[]) => registerEndpoint(h, events);

/** Hold, order and payment: the order paid. */
async function checkout(pid: string, qty: number, price: number): Promise<Order> {
  const token = h.token(uniq('buyer'));
  const hold = await body(h.request('POST', '/api/holds', { token, body: { product_id: pid, qty } }), Hold);
  const order = await body(h.request('POST', '/api/orders', { token, body: { hold_id: hold.id } }), Order);
  const raw = JSON.stringify({ event_id: uniq('evt'), type: 'payment.succeeded', hold_id: hold.id, amount_minor: qty * price, currency: 'EUR' });
  const paid = await h.request('POST', '/api/webhooks/payment', { body: raw, headers: { 'payment-signature': signPayload(WEBHOOK_SECRET, raw) } });
  expect(paid.status).toBe(200);
  return order;
}


const deliveries = async (endpointId: string) => (await body(admin('GET', `/webhook-endpoints/${endpointId}/deliveries`), WebhookDeliveryList)).deliveries;

describe('outbound events: endpoints', () => {
  it('shows the secret once: in the answer to the registration, never when read', async () => {
    const { endpoint } = await endpointFor(['order.paid']);
    expect(endpoint.secret).toMatch(/^whsec_/);
    const list = await admin('GET', '/webhook-endpoints');
    const listText = await list.clone().text();
    expect(listText).not.toContain(endpoint.secret.slice(6));
    expect((await body(list, WebhookEndpointList)).endpoints.map((e) => e.id)).toContain(endpoint.id);
    const one = await admin('GET', `/webhook-endpoints/${endpoint.id}`);
    expect(await one.clone().text()).not.toContain(endpoint.secret.slice(6));
    const { secret: _secret, ...shown } = endpoint;
    expect(await body(one, WebhookEndpoint)).toEqual(shown);
  });

  it('deletes an endpoint: it is gone, deleting it again is 404', async () => {
    const created = await body(admin('POST', '/webhook-endpoints', { url: 'https://example.com/hooks', events: ['order.paid'], description: 'ERP' }), CreatedWebhookEndpoint);
    expect(created.description).toBe('ERP');
    expect((await admin('DELETE', `/webhook-endpoints/${created.id}`)).status).toBe(204);
    for (const res of [await admin('GET', `/webhook-endpoints/${created.id}`), await admin('DELETE', `/webhook-endpoints/${created.id}`), await admin('GET', `/webhook-endpoints/${created.id}/deliveries`)]) {
      expect(await answer(res, Problem)).toMatchObject({ status: 404, body: { code: 'webhook_endpoint_not_found' } });
    }
    expect(await answer(admin('POST', '/webhook-deliveries/dlv_00000000000000000000000000000000/redeliver'), Problem)).toMatchObject({ status: 404, body: { code: 'webhook_delivery_not_found' } });
  });

  describe.each([
    ['not JSON', '{"url":', 'invalid_json'],
    ['no events', { url: 'https://example.com/h', events: [] }, 'invalid_request'],
    ['an unknown event', { url: 'https://example.com/h', events: ['order.shipped'] }, 'invalid_request'],
    ['an unknown hold event', { url: 'https://example.com/h', events: ['hold.shipped'] }, 'invalid_request'],
    ['an event twice', { url: 'https://example.com/h', events: ['order.paid', 'order.paid'] }, 'invalid_request'],
    ['an ftp URL', { url: 'ftp://example.com/h', events: ['order.paid'] }, 'invalid_request'],
    ['a relative URL', { url: '/hooks', events: ['order.paid'] }, 'invalid_request'],
    ['no URL', { events: ['order.paid'] }, 'invalid_request'],
    ['an unknown field', { url: 'https://example.com/h', events: ['order.paid'], secret: 'whsec_mine' }, 'invalid_request'],
    // (Postgres text cannot hold NUL; a password that is no percent-encoding could never be sent)
    ['a description with NUL', { url: 'https://example.com/h', events: ['order.paid'], description: 'ERP\u0000' }, 'invalid_request'],
    ['a URL with NUL in its path', { url: 'https://example.com/h\u0000x', events: ['order.paid'] }, 'invalid_request'],
    ['a URL ending in NUL', { url: 'https://example.com/h\u0000', events: ['order.paid'] }, 'invalid_request'],
    ['a password with a bare %', { url: 'http://erp:100%pure@example.com/h', events: ['order.paid'] }, 'invalid_request'],
  ])('registration with %s', (_label, payload, code) => {
    it(`is refused with 400 ${code} and registers nothing`, async () => {
      const before = (await body(admin('GET', '/webhook-endpoints'), WebhookEndpointList)).endpoints.length;
      const res = await answer(admin('POST', '/webhook-endpoints', payload), Problem);
      expect(res).toMatchObject({ status: 400, body: { code } });
      expect((await body(admin('GET', '/webhook-endpoints'), WebhookEndpointList)).endpoints).toHaveLength(before);
    });
  });

  it.each([
    ['GET', '/webhook-endpoints/ep_%00', 'webhook_endpoint_not_found'],
    ['DELETE', '/webhook-endpoints/ep_%00', 'webhook_endpoint_not_found'],
    ['POST', '/webhook-endpoints/ep_%00/enable', 'webhook_endpoint_not_found'],
    ['GET', '/webhook-endpoints/ep_%00/deliveries', 'webhook_endpoint_not_found'],
    ['POST', '/webhook-deliveries/dlv_%00/redeliver', 'webhook_delivery_not_found'],
  ])('%s %s (an id with NUL) is 404', async (method, path, code) => {
    expect(await answer(admin(method, path), Problem)).toMatchObject({ status: 404, body: { code } });
  });

  it('names the events it offers when one is unknown', async () => {
    const res = await body(admin('POST', '/webhook-endpoints', { url: 'https://example.com/h', events: ['order.paid', 'hold.shipped'] }), Problem);
    expect(res.errors).toEqual([{ path: 'events.1', message: expect.stringContaining('hold.created, hold.released, hold.expired, hold.converted, queue.admitted') }]);
  });

  it('is for admins only', async () => {
    const res = await h.request('POST', '/api/admin/webhook-endpoints', { token: h.token('customer'), body: { url: 'https://example.com/h', events: ['order.paid'] } });
    expect(res.status).toBe(403);
    expect((await h.request('GET', '/api/admin/webhook-endpoints')).status).toBe(401);
  });
});

describe('outbound events: delivery', () => {
  it('a checkout sends order.created, order.paid and product.sold_out, signed (Standard Webhooks); other endpoints get nothing', async () => {
    const { receiver, endpoint } = await endpointFor(['order.created', 'order.paid', 'product.sold_out']);
    const other = await endpointFor(['order.expired', 'order.payment_failed']);
    const pid = await h.createProduct({ stock: 2, unit_price_minor: 700 });
    const order = await checkout(pid, 2, 700);

    // (a request is recorded before it is answered: wait for the answers to be recorded too)
    await expect.poll(async () => (await deliveries(endpoint.id)).map((d) => d.status), { timeout: 15_000 }).toEqual(['delivered', 'delivered', 'delivered']);
    expect(receiver.received).toHaveLength(3);
    const events = receiver.received.map((r) => verified(r, endpoint.secret));
    const byType = Object.fromEntries(events.map((e) => [e.type, e]));
    expect(Object.keys(byType).sort()).toEqual(['order.created', 'order.paid', 'product.sold_out']);
    expect(byType['order.created']!.data).toEqual({ ...order, status: 'pending_payment' });
    expect(byType['order.paid']!.data).toEqual({ ...order, status: 'paid' });
    expect(byType['product.sold_out']!.data).toEqual({ product_id: pid, stock: 2, sold: 2 });
    // one event id per event, and another endpoint's secret does not verify it
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(3);
    expect(() => new Webhook(other.endpoint.secret).verify(receiver.received[0]!.body, receiver.received[0]!.headers)).toThrow();
    for (const r of receiver.received) expect(r.headers['webhook-id']).toMatch(/^evt_/);

    const delivered = await deliveries(endpoint.id);
    expect(delivered.map((d) => [d.status, d.attempts.map((a) => a.status_code)])).toEqual([['delivered', [200]], ['delivered', [200]], ['delivered', [200]]]);
    expect(new Set(delivered.map((d) => d.event_id))).toEqual(new Set(receiver.received.map((r) => r.id)));
    // the endpoint that did not subscribe to these events has no deliveries and got no request
    expect(await deliveries(other.endpoint.id)).toEqual([]);
    expect(other.receiver.received).toEqual([]);
  });

  it('a receiver that fails the first attempts gets the event later, with the same webhook-id; every attempt is visible', async () => {
    const { receiver, endpoint } = await endpointFor(['order.paid']);
    receiver.answer = (_r, nth) => (nth <= 2 ? 500 : 204);
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    const order = await checkout(pid, 1, 300);

    await expect.poll(async () => (await deliveries(endpoint.id))[0]?.status, { timeout: 15_000 }).toBe('delivered');
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.id)).size).toBe(1);
    expect(verified(receiver.received[2]!, endpoint.secret)).toMatchObject({ type: 'order.paid', data: { id: order.id, status: 'paid' } });
    const [delivery] = await deliveries(endpoint.id);
    expect(delivery!.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([[1, 500, 'answered 500'], [2, 500, 'answered 500'], [3, 204, null]]);
    expect(delivery!.next_attempt_at).toBeNull();
    for (const a of delivery!.attempts) expect(a.duration_ms).toBeGreaterThanOrEqual(0);
  });

  it('a receiver\'s Retry-After puts its next attempt back past the schedule\'s wait', async () => {
    const { receiver, endpoint } = await endpointFor(['order.paid']);
    receiver.answer = (_r, nth) => (nth === 1 ? { status: 503, headers: { 'retry-after': '1' } } : 204);
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    await checkout(pid, 1, 300);

    await expect.poll(async () => (await deliveries(endpoint.id))[0]?.status, { timeout: 15_000 }).toBe('delivered');
    const [first, second] = (await deliveries(endpoint.id))[0]!.attempts;
    expect([first!.status_code, second!.status_code]).toEqual([503, 204]);
    // (the schedule's wait after a first failure is 100 ms here)
    expect(Date.parse(second!.at) - Date.parse(first!.at)).toBeGreaterThanOrEqual(1000);
  });

  it('a receiver that answers 410 Gone disables its endpoint: no retries, nothing sent, no new deliveries, until it is enabled again', async () => {
    const { receiver, endpoint } = await endpointFor(['order.paid']);
    const other = await endpointFor(['order.paid']);
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    // the first event waits for its second attempt (Retry-After); the second is answered 410 Gone
    receiver.answer = () => ({ status: 503, headers: { 'retry-after': '2' } });
    await checkout(pid, 1, 300);
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(1);
    receiver.answer = () => 410;
    await checkout(pid, 1, 300);
    await expect.poll(async () => (await deliveries(endpoint.id)).map((d) => d.status), { timeout: 15_000 }).toEqual(['failed', 'failed']);
    const [gone, waiting] = await deliveries(endpoint.id);
    expect(gone!.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([[1, 410, 'answered 410']]);
    expect(waiting!.attempts.map((a) => [a.attempt, a.status_code, a.error])).toEqual([[1, 503, 'answered 503'], [2, null, 'endpoint disabled']]);
    expect(receiver.received).toHaveLength(2);
    const disabled = await body(admin('GET', `/webhook-endpoints/${endpoint.id}`), WebhookEndpoint);
    expect(disabled).toMatchObject({ disabled_at: expect.any(String), disabled_reason: 'answered 410 Gone' });

    // a new event: the other endpoint gets it, the disabled one no delivery
    await checkout(pid, 1, 300);
    await expect.poll(async () => (await deliveries(other.endpoint.id)).map((d) => d.status), { timeout: 15_000 }).toEqual(['delivered', 'delivered', 'delivered']);
    expect(await deliveries(endpoint.id)).toHaveLength(2);

    // enabled again, it gets the next event
    receiver.answer = () => 204;
    const enabled = await answer(admin('POST', `/webhook-endpoints/${endpoint.id}/enable`), WebhookEndpoint);
    expect(enabled).toMatchObject({ status: 200, body: { ...disabled, disabled_at: null, disabled_reason: null } });
    await checkout(pid, 1, 300);
    await expect.poll(async () => (await deliveries(endpoint.id)).map((d) => d.status), { timeout: 15_000 }).toEqual(['delivered', 'failed', 'failed']);
    expect((await admin('POST', '/webhook-endpoints/ep_000000000000000000000000/enable')).status).toBe(404);
  });

  it('an endpoint whose every attempt failed for 5 days is disabled when one more delivery fails for good', async () => {
    const { receiver, endpoint } = await endpointFor(['order.paid']);
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    const statuses = async () => (await deliveries(endpoint.id)).map((d) => d.status);
    const disabledReason = async () => (await body(admin('GET', `/webhook-endpoints/${endpoint.id}`), WebhookEndpoint)).disabled_reason;
    /** Moves the endpoint's successful attempts, and its failed ones, back by so many days. */
    const backdate = async (succeeded: number, failed: number) => {
      await h.sql`
        UPDATE webhook_attempts a SET at = now() - (CASE WHEN a.status_code BETWEEN 200 AND 299 THEN ${succeeded} ELSE ${failed} END)::integer * interval '1 day'
        FROM webhook_deliveries d WHERE d.id = a.delivery_id AND d.endpoint_id = ${endpoint.id}`;
    };
    await checkout(pid, 1, 300);
    await expect.poll(statuses, { timeout: 15_000 }).toEqual(['delivered']);
    receiver.answer = () => 500;
    await checkout(pid, 1, 300);
    await expect.poll(statuses, { timeout: 15_000 }).toEqual(['failed', 'delivered']);
    // a success long ago, failures for 4 days: one more failure leaves it enabled
    await backdate(30, 4);
    await checkout(pid, 1, 300);
    await expect.poll(statuses, { timeout: 15_000 }).toEqual(['failed', 'failed', 'delivered']);
    expect(await disabledReason()).toBeNull();
    // failures for 6 days: the next one disables it
    await backdate(30, 6);
    await checkout(pid, 1, 300);
    await expect.poll(disabledReason, { timeout: 15_000 }).toBe('every attempt failed for 5 days');
    expect(await statuses()).toEqual(['failed', 'failed', 'failed', 'delivered']);
  });

  it('after the last attempt the delivery has failed; redelivery sends it again', async () => {
    const { receiver, endpoint } = await endpointFor(['order.paid']);
    receiver.answer = () => 503;
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    await checkout(pid, 1, 300);

    await expect.poll(async () => (await deliveries(endpoint.id))[0]?.status, { timeout: 15_000 }).toBe('failed');
    const [failed] = await deliveries(endpoint.id);
    expect(failed!.attempts.map((a) => a.status_code)).toEqual([503, 503, 503]);
    expect(failed!.next_attempt_at).toBeNull();
    expect(receiver.received).toHaveLength(3);

    receiver.answer = () => 200;
    const redelivered = await answer(admin('POST', `/webhook-deliveries/${failed!.id}/redeliver`), WebhookDelivery);
    expect(redelivered.status).toBe(202);
    expect(redelivered.body.status).toBe('pending');
    await expect.poll(async () => (await deliveries(endpoint.id))[0]?.status, { timeout: 15_000 }).toBe('delivered');
    const [done] = await deliveries(endpoint.id);
    expect(done!.attempts.map((a) => [a.attempt, a.status_code])).toEqual([[1, 503], [2, 503], [3, 503], [4, 200]]);
    expect(receiver.received).toHaveLength(4);
    expect(new Set(receiver.received.map((r) => r.id))).toEqual(new Set([failed!.event_id]));
    verified(receiver.received[3]!, endpoint.secret);
  });

  it('a URL with a user and password sends them as HTTP Basic authentication, not in the URL', async () => {
    const { receiver, endpoint } = await endpointFor(['order.created']);
    const guarded = await body(
      admin('POST', '/webhook-endpoints', { url: receiver.url.replace('http://', 'http://erp:s%40cret@'), events: ['order.created'] }),
      CreatedWebhookEndpoint,
    );
    onTestFinished(async () => void (await admin('DELETE', `/webhook-endpoints/${guarded.id}`)));
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    await checkout(pid, 1, 300);

    await expect.poll(async () => ['delivered', 'failed'].includes((await deliveries(guarded.id))[0]?.status ?? 'pending'), { timeout: 15_000 }).toBe(true);
    const [delivery] = await deliveries(guarded.id);
    expect(delivery!.attempts.map((a) => [a.status_code, a.error])).toEqual([[200, null]]);
    // both endpoints got the event: the one with credentials with them in the Authorization header
    await expect.poll(() => receiver.received.length, { timeout: 15_000 }).toBe(2);
    const authorizations = receiver.received.map((r) => r.headers.authorization);
    expect(authorizations.sort()).toEqual([`Basic ${Buffer.from('erp:s@cret').toString('base64')}`, undefined]);
    expect((await deliveries(endpoint.id))[0]?.event_id).toBe(delivery!.event_id);
  });

  it('a receiver that cannot be reached or does not answer in time fails its attempts with the reason; checkouts do not wait for it', async () => {
    // Port 2 is privileged and below the ephemeral range, so no receiver of a test running alongside listens there (fetch refuses port 1).
    const down = { endpoint: await body(admin('POST', '/webhook-endpoints', { url: 'http://127.0.0.1:2/hook', events: ['order.created'] }), CreatedWebhookEndpoint) };
    onTestFinished(async () => void (await admin('DELETE', `/webhook-endpoints/${down.endpoint.id}`)));
    const slow = await endpointFor(['order.created']);
    slow.receiver.answer = () => new Promise((resolve) => setTimeout(() => resolve(200), 2_000));
    const pid = await h.createProduct({ stock: 5, unit_price_minor: 300 });
    const started = Date.now();
    await checkout(pid, 1, 300);
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const { endpoint } of [down, slow]) {
      await expect.poll(async () => (await deliveries(endpoint.id))[0]?.status, { timeout: 15_000 }).toBe('failed');
    }
    const [refused] = await deliveries(down.endpoint.id);
    expect(refused!.attempts.map((a) => [a.status_code, a.error])).toEqual(Array(3).fill([null, 'ECONNREFUSED']));
    const [timedOut] = await deliveries(slow.endpoint.id);
    expect(timedOut!.attempts.map((a) => [a.status_code, a.error])).toEqual(Array(3).fill([null, 'no answer within 500 ms']));
    for (const a of timedOut!.attempts) expect(a.duration_ms).toBeGreaterThanOrEqual(450);
  });
});
