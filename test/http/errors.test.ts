import { describe, expect, it } from 'vitest';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, uniq, type Harness } from '../support/harness.js';
import { Hold, Order, Problem } from '../../src/contract.js';
import { answer, body } from '../support/answers.js';

/**
 * SPEC "Errors" for products, holds, orders and admin routes: every row answers problem+json with the
 * right status and code, the extras SPEC names, and leaves the product's stock exactly as it was.
 */

/** the app of an engine: every row is a request to it, so it needs no listener or worker */
let h: Harness;
/** an engine whose holds live 300 ms, for hold_expired (its worker expires them) */
let short: Harness;
test.beforeAll(async ({ startEngine }) => {
  [h, short] = await Promise.all([startEngine({}, { inProcess: true }), startEngine({ HOLD_TTL_MS: '300' })]);
});

type Stock = Awaited<ReturnType<Harness['stock']>>;

interface Scenario {
  /** the engine the request goes to */
  engine: Harness;
  /** the product whose stock must not change */
  pid: string;
  send(): Promise<Response>;
}

interface Row {
  name: string;
  status: number;
  code: string;
  setup(): Promise<Scenario>;
  /** extra assertions on the problem body */
  extra?(problem: Problem, s: Scenario): void;
}

const hour = 3600_000;
const iso = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

async function hold(e: Harness, user: string, pid: string, qty = 1): Promise<string> {
  const res = await answer(e.request('POST', '/api/holds', { token: e.token(user), body: { product_id: pid, qty } }), Hold);
  expect(res.status).toBe(201);
  return res.body.id;
}

async function order(e: Harness, user: string, holdId: string): Promise<string> {
  const res = await answer(e.request('POST', '/api/orders', { token: e.token(user), body: { hold_id: holdId } }), Order);
  expect(res.status).toBe(201);
  return res.body.id;
}

/** A product on the main engine plus a request built from it. */
const on =
  (input: Record<string, unknown>, build: (pid: string) => Promise<() => Promise<Response>> | (() => Promise<Response>)) =>
  async (): Promise<Scenario> => {
    const pid = await h.createProduct(input);
    return { engine: h, pid, send: await build(pid) };
  };

const customer = () => h.token(uniq('u'));
const pad = (n: number) => 'x'.repeat(n);
const errorsAt = (path: string) => (problem: Problem) => {
  expect(Array.isArray(problem.errors)).toBe(true);
  const errors = problem.errors!;
  expect(errors.length).toBeGreaterThan(0);
  for (const e of errors) {
    expect(typeof e.path).toBe('string');
    expect(typeof e.message).toBe('string');
    expect(e.message.length).toBeGreaterThan(0);
  }
  expect(errors.map((e) => e.path)).toContain(path);
};

const rows: Row[] = [
  // 400 invalid_json
  { name: 'POST /api/holds, truncated JSON', status: 400, code: 'invalid_json',
    setup: on({}, (pid) => () => h.request('POST', '/api/holds', { token: customer(), body: `{"product_id":"${pid}","qty":` })) },
  { name: 'POST /api/orders, not JSON', status: 400, code: 'invalid_json',
    setup: on({}, () => () => h.request('POST', '/api/orders', { token: customer(), body: 'hold please' })) },
  { name: 'POST /api/admin/products, not JSON', status: 400, code: 'invalid_json',
    setup: on({}, () => () => h.request('POST', '/api/admin/products', { token: ADMIN_TOKEN, body: '{name: sneaker}' })) },
  { name: 'PATCH /api/admin/products/:id, not JSON', status: 400, code: 'invalid_json',
    setup: on({}, (pid) => () => h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: '{"stock": 1' })) },

  // 400 invalid_request
  { name: 'POST /api/holds, qty 0', status: 400, code: 'invalid_request', extra: errorsAt('qty'),
    setup: on({}, (pid) => () => h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 0 } })) },
  { name: 'POST /api/holds, qty 101', status: 400, code: 'invalid_request', extra: errorsAt('qty'),
    setup: on({}, (pid) => () => h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 101 } })) },
  { name: 'POST /api/holds, product_id missing', status: 400, code: 'invalid_request', extra: errorsAt('product_id'),
    setup: on({}, () => () => h.request('POST', '/api/holds', { token: customer(), body: { qty: 1 } })) },
  { name: 'POST /api/holds, unknown field', status: 400, code: 'invalid_request',
    extra: (b) => expect(b.errors!.length).toBeGreaterThan(0),
    setup: on({}, (pid) => () => h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 1, price: 0 } })) },
  { name: 'POST /api/orders, hold_id missing', status: 400, code: 'invalid_request', extra: errorsAt('hold_id'),
    setup: on({}, () => () => h.request('POST', '/api/orders', { token: customer(), body: {} })) },
  { name: 'POST /api/admin/products, negative stock', status: 400, code: 'invalid_request', extra: errorsAt('stock'),
    setup: on({}, () => () =>
      h.request('POST', '/api/admin/products', { token: ADMIN_TOKEN, body: { name: 'x', unit_price_minor: 1, currency: 'EUR', stock: -1 } })) },
  { name: 'PATCH /api/admin/products/:id, fractional stock', status: 400, code: 'invalid_request', extra: errorsAt('stock'),
    setup: on({}, (pid) => () => h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 2.5 } })) },

  // 401 unauthorized
  { name: 'POST /api/holds without a token', status: 401, code: 'unauthorized',
    setup: on({}, (pid) => () => h.request('POST', '/api/holds', { body: { product_id: pid, qty: 1 } })) },
  { name: 'POST /api/holds with a garbage token', status: 401, code: 'unauthorized',
    setup: on({}, (pid) => () => h.request('POST', '/api/holds', { token: 'not.a.jwt', body: { product_id: pid, qty: 1 } })) },
  { name: 'POST /api/holds with an expired token', status: 401, code: 'unauthorized',
    setup: on({}, (pid) => () => h.request('POST', '/api/holds', { token: h.token('alice', -60), body: { product_id: pid, qty: 1 } })) },
  { name: 'GET /api/holds/:id without a token', status: 401, code: 'unauthorized',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'alice', pid);
      return () => h.request('GET', `/api/holds/${id}`);
    }) },
  { name: 'DELETE /api/holds/:id with an expired token', status: 401, code: 'unauthorized',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'alice', pid);
      return () => h.request('DELETE', `/api/holds/${id}`, { token: h.token('alice', -1) });
    }) },
  { name: 'POST /api/orders without a token', status: 401, code: 'unauthorized',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'alice', pid);
      return () => h.request('POST', '/api/orders', { body: { hold_id: id } });
    }) },
  { name: 'GET /api/orders/:id with a garbage token', status: 401, code: 'unauthorized',
    setup: on({}, async (pid) => {
      const id = await order(h, 'alice', await hold(h, 'alice', pid));
      return () => h.request('GET', `/api/orders/${id}`, { token: 'garbage' });
    }) },
  { name: 'GET /api/admin/products/:id without a token', status: 401, code: 'unauthorized',
    setup: on({}, (pid) => () => h.request('GET', `/api/admin/products/${pid}`)) },
  { name: 'PATCH /api/admin/products/:id with a wrong admin token', status: 401, code: 'unauthorized',
    setup: on({}, (pid) => () => h.request('PATCH', `/api/admin/products/${pid}`, { token: `${ADMIN_TOKEN}x`, body: { stock: 0 } })) },

  // 403 forbidden: a customer on /api/admin/*
  { name: 'customer token on GET /api/admin/products/:id', status: 403, code: 'forbidden',
    setup: on({}, (pid) => () => h.request('GET', `/api/admin/products/${pid}`, { token: customer() })) },
  { name: 'customer token on POST /api/admin/products', status: 403, code: 'forbidden',
    setup: on({}, () => () =>
      h.request('POST', '/api/admin/products', { token: customer(), body: { name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1 } })) },
  { name: 'customer token on PATCH /api/admin/products/:id', status: 403, code: 'forbidden',
    setup: on({}, (pid) => () => h.request('PATCH', `/api/admin/products/${pid}`, { token: customer(), body: { stock: 1000 } })) },
  { name: "customer token on DELETE /api/admin/holds/:id (even the customer's own hold)", status: 403, code: 'forbidden',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'alice', pid, 2);
      return () => h.request('DELETE', `/api/admin/holds/${id}`, { token: h.token('alice') });
    }) },
  { name: 'customer token on POST /api/admin/reconcile', status: 403, code: 'forbidden',
    setup: on({}, () => () => h.request('POST', '/api/admin/reconcile', { token: customer() })) },

  // 404 product_not_found
  { name: 'POST /api/holds on an unknown product', status: 404, code: 'product_not_found',
    setup: on({}, () => () => h.request('POST', '/api/holds', { token: customer(), body: { product_id: uniq('nope'), qty: 1 } })) },
  { name: 'GET /api/products/:id, unknown', status: 404, code: 'product_not_found',
    setup: on({}, () => () => h.request('GET', `/api/products/${uniq('nope')}`)) },
  { name: 'GET /api/products/:id, not even a product id', status: 404, code: 'product_not_found',
    setup: on({}, () => () => h.request('GET', `/api/products/${encodeURIComponent('{p:x}:1')}`)) },
  { name: 'GET /api/admin/products/:id, unknown', status: 404, code: 'product_not_found',
    setup: on({}, () => () => h.request('GET', `/api/admin/products/${uniq('nope')}`, { token: ADMIN_TOKEN })) },
  { name: 'PATCH /api/admin/products/:id, unknown', status: 404, code: 'product_not_found',
    setup: on({}, () => () => h.request('PATCH', `/api/admin/products/${uniq('nope')}`, { token: ADMIN_TOKEN, body: { stock: 5 } })) },

  // 404 hold_not_found
  { name: 'GET /api/holds/:id, unknown id', status: 404, code: 'hold_not_found',
    setup: on({}, (pid) => () => h.request('GET', `/api/holds/h_987654_${pid}`, { token: customer() })) },
  { name: 'GET /api/holds/:id, malformed id', status: 404, code: 'hold_not_found',
    setup: on({}, () => () => h.request('GET', '/api/holds/not-a-hold-id', { token: customer() })) },
  { name: "GET /api/holds/:id, another user's hold", status: 404, code: 'hold_not_found',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'alice', pid, 2);
      return () => h.request('GET', `/api/holds/${id}`, { token: h.token('mallory') });
    }) },
  { name: 'DELETE /api/holds/:id, unknown id', status: 404, code: 'hold_not_found',
    setup: on({}, (pid) => () => h.request('DELETE', `/api/holds/h_987654_${pid}`, { token: customer() })) },
  { name: 'DELETE /api/holds/:id, malformed id', status: 404, code: 'hold_not_found',
    setup: on({}, () => () => h.request('DELETE', '/api/holds/h_0_', { token: customer() })) },
  { name: "DELETE /api/holds/:id, another user's hold (stays held)", status: 404, code: 'hold_not_found',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'alice', pid, 2);
      return () => h.request('DELETE', `/api/holds/${id}`, { token: h.token('mallory') });
    }) },
  { name: 'POST /api/orders, unknown hold', status: 404, code: 'hold_not_found',
    setup: on({}, (pid) => () => h.request('POST', '/api/orders', { token: customer(), body: { hold_id: `h_987654_${pid}` } })) },
  { name: "POST /api/orders, another user's hold", status: 404, code: 'hold_not_found',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'alice', pid, 2);
      return () => h.request('POST', '/api/orders', { token: h.token('mallory'), body: { hold_id: id } });
    }) },
  { name: 'DELETE /api/admin/holds/:id, unknown id', status: 404, code: 'hold_not_found',
    setup: on({}, (pid) => () => h.request('DELETE', `/api/admin/holds/h_987654_${pid}`, { token: ADMIN_TOKEN })) },

  // 404 order_not_found
  { name: 'GET /api/orders/:id, unknown id', status: 404, code: 'order_not_found',
    setup: on({}, (pid) => () => h.request('GET', `/api/orders/o_987654_${pid}`, { token: customer() })) },
  { name: 'GET /api/orders/:id, malformed id', status: 404, code: 'order_not_found',
    setup: on({}, () => () => h.request('GET', '/api/orders/o_x_{p:1}', { token: customer() })) },
  { name: "GET /api/orders/:id, another user's order", status: 404, code: 'order_not_found',
    setup: on({}, async (pid) => {
      const id = await order(h, 'alice', await hold(h, 'alice', pid, 2));
      return () => h.request('GET', `/api/orders/${id}`, { token: h.token('mallory') });
    }) },

  // 409 insufficient_stock
  { name: 'POST /api/holds, more than the stock', status: 409, code: 'insufficient_stock',
    extra: (b) => expect(b.available).toBe(10),
    setup: on({ stock: 10 }, (pid) => () => h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 11 } })) },
  { name: 'POST /api/holds, more than what is left after other holds', status: 409, code: 'insufficient_stock',
    extra: (b) => expect(b.available).toBe(1),
    setup: on({ stock: 3 }, async (pid) => {
      await hold(h, 'alice', pid, 2);
      return () => h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 2 } });
    }) },

  // 409 sale window
  { name: 'POST /api/holds before the sale starts', status: 409, code: 'sale_not_started',
    setup: on({ sale_starts_at: iso(hour), sale_ends_at: iso(2 * hour) }, (pid) => () =>
      h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 1 } })) },
  { name: 'POST /api/holds after the sale ended', status: 409, code: 'sale_ended',
    setup: on({ sale_starts_at: iso(-2 * hour), sale_ends_at: iso(-hour) }, (pid) => () =>
      h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 1 } })) },

  // 409 per_user_limit_exceeded
  { name: 'POST /api/holds past the per-user limit (held counts)', status: 409, code: 'per_user_limit_exceeded',
    extra: (b) => expect({ limit: b.limit, used: b.used }).toEqual({ limit: 3, used: 2 }),
    setup: on({ per_user_limit: 3 }, async (pid) => {
      await hold(h, 'carol', pid, 2);
      return () => h.request('POST', '/api/holds', { token: h.token('carol'), body: { product_id: pid, qty: 2 } });
    }) },
  { name: 'POST /api/holds past the per-user limit (ordered counts)', status: 409, code: 'per_user_limit_exceeded',
    extra: (b) => expect({ limit: b.limit, used: b.used }).toEqual({ limit: 2, used: 2 }),
    setup: on({ per_user_limit: 2 }, async (pid) => {
      await order(h, 'dave', await hold(h, 'dave', pid, 2));
      return () => h.request('POST', '/api/holds', { token: h.token('dave'), body: { product_id: pid, qty: 1 } });
    }) },

  // 409 hold_not_active
  { name: 'POST /api/orders on a released hold', status: 409, code: 'hold_not_active',
    setup: on({}, async (pid) => {
      const id = await hold(h, 'erin', pid, 2);
      expect((await h.request('DELETE', `/api/holds/${id}`, { token: h.token('erin') })).status).toBe(200);
      return () => h.request('POST', '/api/orders', { token: h.token('erin'), body: { hold_id: id } });
    }) },

  // 410 hold_expired (engine with a 300 ms hold TTL)
  { name: 'POST /api/orders on an expired hold', status: 410, code: 'hold_expired',
    setup: async () => {
      const pid = await short.createProduct({ stock: 5 });
      const id = await hold(short, 'frank', pid, 2);
      // wait until the TTL has passed and the expiry (job or sweep) has returned the stock
      await new Promise((r) => setTimeout(r, 400));
      await expect.poll(() => short.stock(pid), { timeout: 15_000, interval: 100 }).toMatchObject({ held: 0, available: 5 });
      return { engine: short, pid, send: () => short.request('POST', '/api/orders', { token: short.token('frank'), body: { hold_id: id } }) };
    } },

  // 413 payload_too_large
  { name: 'POST /api/holds, body over 16 KiB', status: 413, code: 'payload_too_large',
    setup: on({}, (pid) => () =>
      h.request('POST', '/api/holds', { token: customer(), body: JSON.stringify({ product_id: pid, qty: 1, pad: pad(17 * 1024) }) })) },
  { name: 'POST /api/orders, body over 16 KiB', status: 413, code: 'payload_too_large',
    setup: on({}, () => () => h.request('POST', '/api/orders', { token: customer(), body: JSON.stringify({ hold_id: pad(20_000) }) })) },
  { name: 'POST /api/admin/products, body over 16 KiB', status: 413, code: 'payload_too_large',
    setup: on({}, () => () =>
      h.request('POST', '/api/admin/products', { token: ADMIN_TOKEN, body: { name: pad(17_000), unit_price_minor: 1, currency: 'EUR', stock: 1 } })) },

  // 415 unsupported_media_type
  { name: 'POST /api/holds as text/plain', status: 415, code: 'unsupported_media_type',
    setup: on({}, (pid) => () =>
      h.request('POST', '/api/holds', { token: customer(), body: { product_id: pid, qty: 1 }, headers: { 'content-type': 'text/plain' } })) },
  { name: 'POST /api/orders as form data', status: 415, code: 'unsupported_media_type',
    setup: on({}, (pid) => () =>
      h.request('POST', '/api/orders', { token: customer(), body: `hold_id=h_1_${pid}`, headers: { 'content-type': 'application/x-www-form-urlencoded' } })) },
  { name: 'PATCH /api/admin/products/:id as text/plain', status: 415, code: 'unsupported_media_type',
    setup: on({}, (pid) => () =>
      h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: '{"stock":0}', headers: { 'content-type': 'text/plain' } })) },

  // 422 idempotency_key_reused
  { name: 'POST /api/holds, same Idempotency-Key with another qty', status: 422, code: 'idempotency_key_reused',
    setup: on({}, async (pid) => {
      const token = h.token('gina');
      const key = uniq('key');
      const first = await h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 }, headers: { 'idempotency-key': key } });
      expect(first.status).toBe(201);
      return () => h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 2 }, headers: { 'idempotency-key': key } });
    }) },

  // 409 stock_below_committed
  { name: 'PATCH /api/admin/products/:id, stock below what is held', status: 409, code: 'stock_below_committed',
    setup: on({ stock: 10 }, async (pid) => {
      await hold(h, 'hank', pid, 4);
      return () => h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 3 } });
    }) },
  { name: 'PATCH /api/admin/products/:id, stock below held + pending', status: 409, code: 'stock_below_committed',
    setup: on({ stock: 10 }, async (pid) => {
      await hold(h, 'ivan', pid, 3);
      await order(h, 'judy', await hold(h, 'judy', pid, 3));
      return () => h.request('PATCH', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 5 } });
    }) },

  // unknown routes
  { name: 'GET on an unknown route', status: 404, code: 'not_found',
    setup: on({}, () => () => h.request('GET', '/api/nothing-here')) },
  { name: 'POST on an unknown route under /api/holds', status: 404, code: 'not_found',
    setup: on({}, (pid) => () => h.request('POST', `/api/holds/${pid}/extend`, { token: customer(), body: {} })) },
  { name: 'unknown route outside /api', status: 404, code: 'not_found',
    setup: on({}, () => () => h.request('GET', '/wp-admin/setup.php')) },

  // known paths, other methods
  { name: 'PUT on /api/holds', status: 405, code: 'method_not_allowed',
    setup: on({}, (pid) => () => h.request('PUT', '/api/holds', { token: customer(), body: { product_id: pid, qty: 1 } })) },
  { name: 'PUT on /api/admin/products/:id', status: 405, code: 'method_not_allowed',
    setup: on({}, (pid) => () => h.request('PUT', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN, body: { stock: 1 } })) },
];

describe.each(rows)('$status $code — $name', (row) => {
  it('answers problem+json and changes no stock', async () => {
    const s = await row.setup();
    const before: Stock = await s.engine.stock(s.pid);
    const res = await s.send();
    const { status, body: problem } = await answer(res, Problem);
    expect(status, JSON.stringify(problem)).toBe(row.status);
    expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json(\s*;|$)/);
    expect(problem).toMatchObject({ status: row.status, code: row.code });
    expect(typeof problem.type).toBe('string');
    expect(problem.type.length).toBeGreaterThan(0);
    expect(typeof problem.title).toBe('string');
    expect(problem.title.length).toBeGreaterThan(0);
    expect(typeof problem.detail).toBe('string');
    expect(problem).not.toHaveProperty('stack');
    if (row.code === 'invalid_request') expect(Array.isArray(problem.errors)).toBe(true);
    row.extra?.(problem, s);
    expect(await s.engine.stock(s.pid)).toEqual(before);
  });
});

describe('a 401 challenges for a Bearer token (RFC 9110 11.6.1, RFC 6750 3)', () => {
  it.each([
    { name: 'customer route, no token', method: 'POST', path: '/api/holds', token: undefined, challenge: 'Bearer' },
    { name: 'customer route, garbage token', method: 'POST', path: '/api/holds', token: 'not.a.jwt', challenge: 'Bearer error="invalid_token"' },
    { name: 'customer route, expired token', method: 'GET', path: '/api/orders/o_1_p1', token: 'expired', challenge: 'Bearer error="invalid_token"' },
    { name: 'admin route, no token', method: 'GET', path: '/api/admin/products/p1', token: undefined, challenge: 'Bearer' },
    { name: 'admin route, wrong token', method: 'GET', path: '/api/admin/products/p1', token: `${ADMIN_TOKEN}x`, challenge: 'Bearer error="invalid_token"' },
  ])('$name: WWW-Authenticate: $challenge', async ({ method, path, token, challenge }) => {
    const res = await h.request(method, path, { token: token === 'expired' ? h.token('ola', -60) : token, body: method === 'POST' ? {} : undefined });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(challenge);
  });

  it('takes the scheme in any case (RFC 9110 11.1), as clients building it from an OAuth token_type "bearer" send it', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const res = await h.request('POST', '/api/holds', { body: { product_id: pid, qty: 1 }, headers: { authorization: `bearer ${h.token('ola')}` } });
    expect(res.status).toBe(201);
    const admin = await h.request('GET', `/api/admin/products/${pid}`, { headers: { authorization: `BEARER ${ADMIN_TOKEN}` } });
    expect(admin.status).toBe(200);
  });
});

describe('a known path asked with a method it does not take', () => {
  it.each([
    ['PUT', '/api/holds', 'POST'],
    ['POST', '/api/admin/products/p1', 'GET, PATCH, HEAD'],
    ['DELETE', '/openapi.json', 'GET, HEAD'],
  ])('%s %s: 405 with Allow: %s', async (method, path, allow) => {
    const res = await h.request(method, path, { token: path.startsWith('/api/admin') ? ADMIN_TOKEN : h.token('ola'), body: {} });
    expect(res.headers.get('allow')).toBe(allow);
    expect(await answer(res, Problem)).toMatchObject({ status: 405, body: { code: 'method_not_allowed' } });
  });

  it('HEAD, which Allow names beside GET, is answered as GET without a body', async () => {
    const res = await h.request('HEAD', '/openapi.json');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});

describe('idempotent replay of POST /api/holds', () => {
  it('same key + same body: 201 with the same body, Idempotent-Replayed: true, one hold of stock', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const token = h.token('kim');
    const key = uniq('key');
    const send = () => h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 3 }, headers: { 'idempotency-key': key } });

    const first = await send();
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const firstBody = await body(first, Hold);
    expect(firstBody).toMatchObject({ product_id: pid, user_id: 'kim', qty: 3, status: 'active' });

    for (let i = 0; i < 3; i++) {
      const again = await send();
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await body(again, Hold)).toEqual(firstBody);
    }
    expect(await h.stock(pid)).toEqual({ total: 10, available: 7, held: 3, pending_payment: 0, sold: 0 });
  });

  it('the key is scoped to its user: another user with the same key gets a hold of their own', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const key = uniq('key');
    const a = await answer(h.request('POST', '/api/holds', { token: h.token('lee'), body: { product_id: pid, qty: 1 }, headers: { 'idempotency-key': key } }), Hold);
    const b = await answer(h.request('POST', '/api/holds', { token: h.token('max'), body: { product_id: pid, qty: 1 }, headers: { 'idempotency-key': key } }), Hold);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.body.id).not.toBe(b.body.id);
    expect((await h.stock(pid)).held).toBe(2);
  });
});
