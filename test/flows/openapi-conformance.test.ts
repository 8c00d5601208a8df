import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import type { OpenApiDocument } from '../../src/http/openapi/document.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { adyenSignature } from '../../src/http/webhooks/adyen.js';
import { DocumentedApi, type Checked } from '../support/documented-api.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, WEBHOOK_SECRET, startHarness, uniq, type Harness } from '../support/harness.js';

/**
 * The suite's flows against a real engine, every answer checked against GET /openapi.json: status,
 * content type, headers and body must be what the document says (test/support/documented-api.ts).
 */

const STRIPE_SECRET = `whsec_${'5'.repeat(32)}`;
const ADYEN_KEY = 'ab'.repeat(32);
test.override('harnessOptions', { inProcess: true });
test.override('engineEnv', { STRIPE_WEBHOOK_SECRET: STRIPE_SECRET, ADYEN_WEBHOOK_SECRET: ADYEN_KEY });

let h: Harness;
let api: DocumentedApi;
test.beforeAll(async ({ harness }) => {
  h = harness;
  api = new DocumentedApi((await (await h.request('GET', '/openapi.json')).json()) as OpenApiDocument);
});

type Options = { body?: unknown; token?: string; headers?: Record<string, string> };
/** One request, its answer checked against the document. */
const call = async (method: string, path: string, opts: Options = {}, on: Harness = h): Promise<Checked> =>
  api.check(method, path, await on.request(method, path, opts));
const adminCall = (method: string, path: string, body?: unknown) => call(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body });
const signed = (payload: unknown, secret = WEBHOOK_SECRET) => {
  const raw = JSON.stringify(payload);
  return { body: raw, headers: { 'payment-signature': signPayload(secret, raw) } };
};
const idOf = (c: Checked) => (c.body as { id: string }).id;
const fromNow = (ms: number) => new Date(Date.now() + ms).toISOString();

async function holdFor(user: string, input: Record<string, unknown> = {}, qty = 1, on = h) {
  const pid = await on.createProduct({ stock: 5, unit_price_minor: 1000, ...input });
  const hold = await call('POST', '/api/holds', { token: on.token(user), body: { product_id: pid, qty } }, on);
  expect(hold.status).toBe(201);
  return { pid, holdId: idOf(hold), token: on.token(user) };
}

async function orderFor(user: string, on = h) {
  const f = await holdFor(user, {}, 1, on);
  const order = await call('POST', '/api/orders', { token: f.token, body: { hold_id: f.holdId } }, on);
  expect(order.status).toBe(201);
  return { ...f, orderId: idOf(order) };
}

const payment = (f: { holdId: string; orderId?: string }, amount = 1000) => ({
  event_id: uniq('evt'), type: 'payment.succeeded', hold_id: f.holdId, ...(f.orderId ? { order_id: f.orderId } : {}), amount_minor: amount, currency: 'EUR',
});

describe('the main flows answer as the document says', () => {
  it('products, holds with an Idempotency-Key, orders, the payment webhook', async () => {
    const created = await adminCall('POST', '/products', { name: 'Drop', unit_price_minor: 1000, currency: 'EUR', stock: 5, per_user_limit: 3 });
    expect(created.status).toBe(201);
    const pid = idOf(created);
    expect((await adminCall('GET', `/products/${pid}`)).status).toBe(200);
    expect((await call('GET', `/api/products/${pid}`)).status).toBe(200);

    const token = h.token('flow');
    const hold = { token, body: { product_id: pid, qty: 1 }, headers: { 'idempotency-key': '"flow-1"' } };
    const first = await h.request('POST', '/api/holds', hold);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const placed = await api.check('POST', '/api/holds', first);
    const replay = await h.request('POST', '/api/holds', hold);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect((await api.check('POST', '/api/holds', replay)).body).toEqual(placed.body);
    const holdId = idOf(placed);
    expect((await call('GET', `/api/holds/${holdId}`, { token })).status).toBe(200);
    expect((await call('DELETE', `/api/holds/${holdId}`, { token })).status).toBe(200);
    expect((await call('DELETE', `/api/holds/${holdId}`, { token })).status).toBe(200);

    const next = await call('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 } });
    const order = await call('POST', '/api/orders', { token, body: { hold_id: idOf(next) } });
    expect(order.status).toBe(201);
    expect((await call('POST', '/api/orders', { token, body: { hold_id: idOf(next) } })).status).toBe(200);
    expect((await call('GET', `/api/orders/${idOf(order)}`, { token })).status).toBe(200);

    const paid = payment({ holdId: idOf(next), orderId: idOf(order) }, 2000);
    expect((await call('POST', '/api/webhooks/payment', signed(paid))).body).toMatchObject({ result: 'applied', order_status: 'paid' });
    expect((await call('POST', '/api/webhooks/generic', signed(paid))).body).toMatchObject({ result: 'duplicate' });
  });

  it('a waiting room: join, join again, read the ticket, hold once admitted; the one behind is not admitted yet', async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'queue' });
    const [first, second] = [h.token(uniq('front')), h.token(uniq('behind'))];
    const joined = await call('POST', `/api/products/${pid}/queue`, { token: first });
    expect(joined).toMatchObject({ status: 201, body: { status: 'admitted', position: 1 } });
    expect((await call('POST', `/api/products/${pid}/queue`, { token: first })).status).toBe(200);
    expect((await call('GET', `/api/products/${pid}/queue`, { token: first })).body).toEqual(joined.body);
    expect((await call('POST', '/api/holds', { token: first, body: { product_id: pid, qty: 1 } })).status).toBe(201);

    expect((await call('POST', `/api/products/${pid}/queue`, { token: second })).body).toMatchObject({ status: 'waiting', position: 2 });
    const refused = await call('POST', '/api/holds', { token: second, body: { product_id: pid, qty: 1 } });
    expect(refused).toMatchObject({ status: 403, code: 'not_admitted', body: { position: 2 } });
  });

  it('a raffle: its commitment before the close, an entry, the seed and the order after the draw', async () => {
    const pid = await h.createProduct({ stock: 1, admission: 'raffle', raffle_closes_at: fromNow(3600_000) });
    const before = await call('GET', `/api/products/${pid}/draw`);
    expect(before.body).toMatchObject({ seed: null, order: null, entries: 0 });
    const entrant = uniq('entrant');
    expect((await call('POST', `/api/products/${pid}/queue`, { token: h.token(entrant) })).body).toMatchObject({ status: 'entered' });

    expect((await adminCall('PATCH', `/products/${pid}`, { raffle_closes_at: fromNow(-1000) })).status).toBe(200);
    await h.runtime.engine.raffle.draw(pid);
    const after = await call('GET', `/api/products/${pid}/draw`);
    expect(after.body).toMatchObject({ commitment: (before.body as { commitment: string }).commitment, winners: 1, order: [entrant] });
    expect((await call('GET', `/api/products/${pid}/queue`, { token: h.token(entrant) })).body).toMatchObject({ status: 'won' });
  });

  it('Stripe and Adyen deliveries', async () => {
    const f = await orderFor(uniq('stripe'));
    const intent = { id: uniq('evt'), type: 'payment_intent.succeeded', livemode: false, data: { object: { amount: 1000, amount_received: 1000, currency: 'eur', metadata: { order_id: f.orderId } } } };
    const other = { id: uniq('evt'), type: 'customer.created', livemode: false, data: { object: {} } };
    for (const [event, result] of [[intent, 'applied'], [other, 'ignored']] as const) {
      const raw = JSON.stringify(event);
      const answer = await call('POST', '/api/webhooks/stripe', { body: raw, headers: { 'stripe-signature': signPayload(STRIPE_SECRET, raw) } });
      expect(answer.body).toMatchObject({ result });
    }
    const item = {
      pspReference: uniq('psp'), merchantAccountCode: 'Shop', merchantReference: 'elsewhere', amount: { value: 100, currency: 'EUR' },
      eventCode: 'REPORT_AVAILABLE', success: 'true' as const,
    };
    const notification = { live: 'false', notificationItems: [{ NotificationRequestItem: { ...item, additionalData: { hmacSignature: adyenSignature(item, ADYEN_KEY) } } }] };
    expect((await call('POST', '/api/webhooks/adyen', { body: notification })).body).toBe('[accepted]');
  });

  it('admin changes, release and reconciliation; health, metrics and the docs', async () => {
    const { pid, holdId } = await holdFor(uniq('admin'));
    expect((await adminCall('PATCH', `/products/${pid}`, { stock: 8, name: 'Restocked' })).status).toBe(200);
    expect((await adminCall('DELETE', `/holds/${holdId}`)).status).toBe(200);
    expect((await adminCall('POST', '/reconcile?dry_run=true')).status).toBe(200);
    expect((await adminCall('POST', '/reconcile')).status).toBe(200);
    expect((await adminCall('POST', '/payments/reapply')).status).toBe(200);
    expect((await adminCall('POST', '/recover', {})).status).toBe(200);
    const endpoint = await adminCall('POST', '/webhook-endpoints', { url: 'https://erp.example.com/hooks', events: ['order.paid'] });
    expect(endpoint.status).toBe(201);
    expect((await adminCall('GET', '/webhook-endpoints')).status).toBe(200);
    expect((await adminCall('GET', `/webhook-endpoints/${idOf(endpoint)}`)).status).toBe(200);
    expect((await adminCall('GET', `/webhook-endpoints/${idOf(endpoint)}/deliveries`)).status).toBe(200);
    expect((await adminCall('POST', `/webhook-endpoints/${idOf(endpoint)}/enable`)).status).toBe(200);
    expect((await adminCall('DELETE', `/webhook-endpoints/${idOf(endpoint)}`)).status).toBe(204);
    for (const path of ['/health/live', '/health/ready', '/metrics', '/openapi.json', '/docs', '/docs/start.js', '/docs/swagger-ui.css', '/admin', '/admin/dashboard.js', '/admin/dashboard.css']) {
      expect((await call('GET', path)).status, path).toBe(200);
    }
  });
});

/** A request that answers one problem code. */
type Case = [code: string, run: () => Promise<Checked>];

describe('problem answers are the documented ones', () => {
  const cases: Case[] = [
    ['invalid_json', () => call('POST', '/api/holds', { token: h.token('u'), body: '{"product_id":' })],
    ['invalid_request', () => call('POST', '/api/holds', { token: h.token('u'), body: { product_id: 'p', qty: 0 } })],
    ['invalid_request', () => call('POST', '/api/holds', { token: h.token('u'), body: { product_id: 'p', qty: 1 }, headers: { 'idempotency-key': '"un"closed"' } })],
    ['unsupported_media_type', () => call('POST', '/api/orders', { token: h.token('u'), body: 'hold_id=h', headers: { 'content-type': 'text/plain' } })],
    ['payload_too_large', () => call('POST', '/api/admin/products', { token: ADMIN_TOKEN, body: { name: 'x'.repeat(20_000) } })],
    ['unauthorized', () => call('GET', '/api/holds/h_1_p')],
    ['unauthorized', () => call('GET', '/api/admin/products/p', { token: 'wrong' })],
    ['forbidden', () => call('POST', '/api/admin/reconcile', { token: h.token('u') })],
    // (the live feed's stream itself is held to its shape in test/http/live.test.ts: it never ends)
    ['unauthorized', () => call('GET', '/api/admin/live')],
    ['invalid_signature', () => call('POST', '/api/webhooks/payment', { body: payment({ holdId: 'h_1_p' }), headers: { 'payment-signature': 't=1,v1=00' } })],
    ['not_found', () => call('GET', '/api/nowhere')],
    ['method_not_allowed', () => call('PUT', '/api/holds', { token: h.token('u') })],
    ['product_not_found', () => call('GET', '/api/products/missing')],
    ['webhook_endpoint_not_found', () => adminCall('GET', '/webhook-endpoints/whe_missing')],
    ['webhook_delivery_not_found', () => adminCall('POST', '/webhook-deliveries/dlv_00000000000000000000000000000000/redeliver')],
    ['product_not_found', () => adminCall('PATCH', '/products/missing', { stock: 1 })],
    ['hold_not_found', () => call('GET', '/api/holds/h_1_missing', { token: h.token('u') })],
    ['hold_not_found', () => call('POST', '/api/webhooks/payment', signed(payment({ holdId: 'nothing' })))],
    ['order_not_found', () => call('GET', '/api/orders/o_1_missing', { token: h.token('u') })],
    ['insufficient_stock', async () => {
      const pid = await h.createProduct({ stock: 1 });
      return call('POST', '/api/holds', { token: h.token('u'), body: { product_id: pid, qty: 2 } });
    }],
    ['sale_not_started', async () => {
      const pid = await h.createProduct({ sale_starts_at: '2099-01-01T00:00:00Z' });
      return call('POST', '/api/holds', { token: h.token('u'), body: { product_id: pid, qty: 1 } });
    }],
    ['sale_ended', async () => {
      const pid = await h.createProduct({ sale_starts_at: '2000-01-01T00:00:00Z', sale_ends_at: '2001-01-01T00:00:00Z' });
      return call('POST', '/api/holds', { token: h.token('u'), body: { product_id: pid, qty: 1 } });
    }],
    ['per_user_limit_exceeded', async () => {
      const pid = await h.createProduct({ per_user_limit: 1 });
      return call('POST', '/api/holds', { token: h.token('u'), body: { product_id: pid, qty: 2 } });
    }],
    ['idempotency_key_reused', async () => {
      const pid = await h.createProduct();
      const send = (qty: number) => call('POST', '/api/holds', { token: h.token('u'), body: { product_id: pid, qty }, headers: { 'idempotency-key': 'k1' } });
      await send(1);
      return send(2);
    }],
    ['hold_not_active', async () => {
      const f = await holdFor(uniq('released'));
      await call('DELETE', `/api/holds/${f.holdId}`, { token: f.token });
      return call('POST', '/api/orders', { token: f.token, body: { hold_id: f.holdId } });
    }],
    ['hold_not_active', async () => {
      const f = await orderFor(uniq('ordered'));
      return call('DELETE', `/api/holds/${f.holdId}`, { token: f.token });
    }],
    ['product_exists', async () => adminCall('POST', '/products', { id: await h.createProduct(), name: 'Again', unit_price_minor: 1, currency: 'EUR', stock: 1 })],
    ['stock_below_committed', async () => {
      const f = await holdFor(uniq('committed'), {}, 3);
      return adminCall('PATCH', `/products/${f.pid}`, { stock: 2 });
    }],
    ['amount_mismatch', async () => call('POST', '/api/webhooks/payment', signed(payment(await orderFor(uniq('mismatch')), 1)))],
    ['not_admitted', async () => {
      const pid = await h.createProduct({ admission: 'raffle', raffle_closes_at: fromNow(3600_000) });
      return call('POST', '/api/holds', { token: h.token('u'), body: { product_id: pid, qty: 1 } });
    }],
    ['not_queued', async () => call('POST', `/api/products/${await h.createProduct()}/queue`, { token: h.token('u') })],
    ['not_queued', async () => call('GET', `/api/products/${await h.createProduct({ admission: 'queue' })}/draw`)],
    ['raffle_closed', async () => {
      const pid = await h.createProduct({ admission: 'raffle', raffle_closes_at: fromNow(3600_000) });
      await adminCall('PATCH', `/products/${pid}`, { raffle_closes_at: fromNow(-1000) });
      return call('POST', `/api/products/${pid}/queue`, { token: h.token('u') });
    }],
    ['ticket_not_found', async () => call('GET', `/api/products/${await h.createProduct({ admission: 'queue' })}/queue`, { token: h.token('u') })],
    ['product_not_found', () => call('POST', '/api/products/missing/queue', { token: h.token('u') })],
    ['idempotency_key_reused', async () => {
      const event = payment(await orderFor(uniq('reused')));
      await call('POST', '/api/webhooks/payment', signed(event));
      return call('POST', '/api/webhooks/payment', signed({ ...event, type: 'payment.failed' }));
    }],
  ];

  it.each(cases)('%s', async (code, run) => {
    const answer = await run();
    expect(answer.code).toBe(code);
    expect(answer.status).toBeGreaterThanOrEqual(400);
  });

  test('hold_expired and rate_limited (with Retry-After), on an engine with a short hold and a small allowance', async ({ startEngine }) => {
    const short = await startEngine({ HOLD_TTL_MS: '300', RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' }, { inProcess: true });
    const pid = await short.createProduct();
    const token = short.token('late');
    const hold = await call('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }, short);
    await new Promise((r) => setTimeout(r, 400));
    expect((await call('POST', '/api/orders', { token, body: { hold_id: idOf(hold) } }, short)).code).toBe('hold_expired');
    expect((await call('DELETE', `/api/holds/${idOf(hold)}`, { token }, short)).code).toBe('hold_expired');

    const eager = { token: short.token('eager') };
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(await short.request('GET', `/api/holds/${idOf(hold)}`, eager));
    const limited = answers[3]!;
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await api.check('GET', `/api/holds/${idOf(hold)}`, limited)).code).toBe('rate_limited');
  });

  test('unavailable (with Retry-After), on an engine whose Redis is down', async ({ privateRedis }) => {
    // not a startEngine one: this engine has to close while its Redis still runs
    const down = await startHarness({ REDIS_URL: privateRedis.url }, { inProcess: true });
    try {
      const pid = await down.createProduct();
      await privateRedis.kill();
      const token = down.token('u');
      const answers = [
        await call('GET', `/api/products/${pid}`, {}, down),
        await call('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } }, down),
      ];
      expect(answers.map((a) => a.code)).toEqual(['unavailable', 'unavailable']);
      // the metrics still answer, saying that Redis is down: an outage is when they are needed most
      const metrics = await call('GET', '/metrics', {}, down);
      expect(metrics.status).toBe(200);
      expect(String(metrics.body)).toMatch(/^engine_redis_up 0$/m);
      expect((await call('GET', '/health/ready', {}, down)).status).toBe(503);
    } finally {
      await privateRedis.start();
      await down.close();
    }
  });

  test('replication_unconfirmed (with Retry-After), on an engine waiting for a replica its Redis does not have', async ({ startEngine }) => {
    const lonely = await startEngine({ REDIS_REPLICA_ACKS: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '50' }, { inProcess: true });
    const pid = await lonely.createProduct();
    const res = await lonely.request('POST', '/api/holds', { token: lonely.token('u'), body: { product_id: pid, qty: 1 } });
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect((await api.check('POST', '/api/holds', res)).code).toBe('replication_unconfirmed');
  });

  test('unavailable (with Retry-After) for a payment webhook, on an engine whose Postgres is cut off', async ({ startEngine, postgresProxy }) => {
    const cut = await startEngine({}, { inProcess: true, engineDatabaseUrl: (url) => postgresProxy.wrap(url) });
    const f = await orderFor(uniq('cut'), cut);
    postgresProxy.cut();
    try {
      const answer = await call('POST', '/api/webhooks/payment', signed(payment(f)), cut);
      expect(answer.code).toBe('unavailable');
    } finally {
      postgresProxy.restore();
    }
  });

  it('every documented operation and every problem code but internal_error was seen', () => {
    const operations = Object.values(api.document.paths ?? {}).flatMap((item) => Object.values(item as Record<string, { operationId?: string }>).map((o) => o.operationId));
    const seenOperations = new Set(api.seen.map((s) => s.operationId));
    expect(operations.filter((id) => !seenOperations.has(id!))).toEqual([]);
    const seenCodes = new Set(api.seen.map((s) => s.code));
    const expected = ErrorCode.options.filter((c) => c !== 'internal_error' && c !== 'idempotency_key_in_flight');
    expect(expected.filter((c) => !seenCodes.has(c))).toEqual([]);
  });
});

describe('the check itself', () => {
  it('refuses answers that drift from the document', async () => {
    const hold = { id: 'h_1_p', product_id: 'p', user_id: 'u', qty: 1, status: 'active', created_at: '2026-01-01T00:00:00.000Z', expires_at: '2026-01-01T00:02:00.000Z' };
    const json = (body: unknown, status = 201, headers: Record<string, string> = {}) =>
      new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
    await expect(api.check('POST', '/api/holds', json(hold))).resolves.toMatchObject({ status: 201 });
    const drifts: [string, Response][] = [
      ['an extra field', json({ ...hold, note: 'x' })],
      ['a missing field', json({ ...hold, expires_at: undefined })],
      ['a status outside the enum', json({ ...hold, status: 'pending' })],
      ['a bad date', json({ ...hold, created_at: 'yesterday' })],
      ['an undocumented status', json(hold, 202)],
      ['another content type', new Response(JSON.stringify(hold), { status: 201, headers: { 'content-type': 'text/plain' } })],
      ['an undocumented header', json(hold, 201, { 'retry-after': '1' })],
      ['a header value outside its schema', json(hold, 201, { 'idempotent-replayed': 'yes' })],
      ['a problem code the answer does not list', new Response(JSON.stringify({ type: 'urn:flash-sale:problem:sale_ended', title: 't', status: 404, detail: 'd', code: 'sale_ended' }), { status: 404, headers: { 'content-type': 'application/problem+json' } })],
      ['a 429 without Retry-After', new Response(JSON.stringify({ type: 't', title: 't', status: 429, detail: 'd', code: 'rate_limited' }), { status: 429, headers: { 'content-type': 'application/problem+json' } })],
    ];
    for (const [what, res] of drifts) await expect(api.check('POST', '/api/holds', res), what).rejects.toThrow();
  });
});
