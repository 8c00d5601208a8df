// The engine's API for k6 scripts: one function per step, each knowing which answers are normal for it
// (the same lists as loadtests/lib/engine-api.ts). Load-phase calls count their outcome (HTTP status +
// problem `code`) and anything unexpected; setup/teardown calls are tagged phase=admin and not counted.
import http from 'k6/http';
import { Counter } from 'k6/metrics';
import { paymentSignature } from './auth.js';

/**
 * @typedef {import('./config.js').Target} Target
 * @typedef {import('./config.js').ProductTemplate} ProductTemplate
 * @typedef {import('./config.js').OrderStatus} OrderStatus
 * @typedef {import('./config.js').PaymentEventType} PaymentEventType
 * @typedef {{ total: number, available: number, held: number, pending_payment: number, sold: number }} StockBreakdown
 * @typedef {{ id: string, unit_price_minor: number, currency: string, stock: StockBreakdown }} AdminProductView
 * @typedef {{ id: string, product_id: string, user_id: string, qty: number, status: 'active' | 'converted' | 'released' | 'expired', created_at: string, expires_at: string }} HoldView
 * @typedef {{ id: string, hold_id: string, product_id: string, qty: number, total_minor: number, currency: string, status: OrderStatus }} OrderView
 * @typedef {{ event_id: string, type: PaymentEventType, hold_id: string, order_id?: string, amount_minor: number, currency: string }} PaymentEvent
 * @typedef {'applied' | 'duplicate' | 'deferred' | 'ignored'} WebhookResult
 * @typedef {{ result?: WebhookResult, order_id?: string | null, order_status?: OrderStatus | null }} WebhookAnswer
 */

/**
 * @template T
 * @typedef {object} ApiResponse
 * @property {number} status 0 = no response
 * @property {string | undefined} code problem+json `code`
 * @property {T} body parsed JSON (or the raw text)
 * @property {Record<string, string>} headers
 * @property {boolean} expected
 */

/**
 * @typedef {object} CallSpec
 * @property {string} method
 * @property {string} path
 * @property {readonly string[]} expect outcome keys (`409 insufficient_stock`) or bare statuses (`201`)
 * @property {string} [name] request name (tag `name`); default `METHOD path`
 * @property {string} [token]
 * @property {unknown} [json]
 * @property {string} [raw]
 * @property {Record<string, string>} [headers]
 * @property {(body: any) => string | undefined} [label] labels a success in the outcome counts (a webhook's result)
 * @property {'load' | 'admin'} [phase]
 */

/** Every answer of the load phase by `name` and `outcome` (e.g. `409 insufficient_stock`). */
export const outcomes = new Counter('outcomes');
/** Answers a step did not expect (5xx, network errors, unknown codes). */
export const unexpectedResponses = new Counter('unexpected_responses');

/** Request names (the `name` tag), for per-request statistics in the summary. */
export const REQUEST_NAMES = [
  'POST /api/holds',
  'GET /api/holds/:id',
  'DELETE /api/holds/:id',
  'POST /api/orders',
  'GET /api/orders/:id',
  'POST /api/webhooks/payment',
  'GET /api/products/:id',
];

const RATE_LIMITED = '429 rate_limited';
export const EXPECT = {
  hold: ['201', '409 insufficient_stock', RATE_LIMITED],
  order: ['201', '200', '410 hold_expired', '409 hold_not_active', RATE_LIMITED],
  read: ['200', RATE_LIMITED],
  release: ['200', RATE_LIMITED],
  webhook: ['200'],
};

/**
 * @param {number} status
 * @param {string | undefined} code
 */
export function outcomeKey(status, code) {
  if (status === 0) return 'network_error';
  return code ? `${status} ${code}` : String(status);
}

/**
 * @param {readonly string[]} expect
 * @param {number} status
 * @param {string | undefined} code
 */
function isExpected(expect, status, code) {
  return expect.includes(String(status)) || (code !== undefined && expect.includes(outcomeKey(status, code)));
}

/** @type {Map<string, ReturnType<typeof http.expectedStatuses>>} */
const callbacks = new Map();
/** `http_req_failed` counts what the step does not expect, not every 4xx. @param {readonly string[]} expect */
function responseCallback(expect) {
  const key = expect.join('|');
  let cb = callbacks.get(key);
  if (!cb) {
    cb = http.expectedStatuses(...[...new Set(expect.map((e) => Number(e.split(' ')[0])))]);
    callbacks.set(key, cb);
  }
  return cb;
}

/**
 * @param {Target} t
 * @param {CallSpec} spec
 * @returns {import('k6/http').ObjectBatchRequest}
 */
function prepare(t, spec) {
  /** @type {Record<string, string>} */
  const headers = { ...spec.headers };
  if (spec.token) headers.Authorization = `Bearer ${spec.token}`;
  const body = spec.json !== undefined ? JSON.stringify(spec.json) : spec.raw;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const name = spec.name || `${spec.method} ${spec.path}`;
  return {
    method: spec.method,
    url: `${t.baseUrl}${spec.path}`,
    body: body ?? null,
    params: { headers, tags: { name, phase: spec.phase || 'load' }, responseCallback: responseCallback(spec.expect), timeout: '15s' },
  };
}

let warned = 0;

/**
 * @param {CallSpec} spec
 * @param {import('k6/http').Response} res
 * @returns {ApiResponse<any>}
 */
function finish(spec, res) {
  /** @type {any} */
  let body = res.body;
  const type = res.headers['Content-Type'] || '';
  if (typeof body === 'string' && body.length > 0 && type.includes('json')) {
    try {
      body = JSON.parse(body);
    } catch {
      // keep the text
    }
  }
  const code = body && typeof body === 'object' && typeof body.code === 'string' ? /** @type {string} */ (body.code) : undefined;
  const expected = isExpected(spec.expect, res.status, code);
  if ((spec.phase || 'load') === 'load') {
    const label = code ?? (res.status >= 200 && res.status < 300 && spec.label ? spec.label(body) : undefined);
    const name = spec.name || `${spec.method} ${spec.path}`;
    const outcome = outcomeKey(res.status, label);
    outcomes.add(1, { name, outcome });
    if (!expected) {
      unexpectedResponses.add(1, { name, outcome });
      if (warned++ < 5) console.warn(`unexpected: ${name} -> ${outcome} ${String(res.error || res.body).slice(0, 300)}`);
    }
  }
  return { status: res.status, code, body, headers: res.headers, expected };
}

/**
 * One request.
 * @param {Target} t
 * @param {CallSpec} spec
 */
export function call(t, spec) {
  const r = prepare(t, spec);
  return finish(spec, http.request(r.method, /** @type {string} */ (r.url), r.body, r.params));
}

/**
 * Several requests at once (http.batch: in parallel, up to the `batch` / `batchPerHost` options).
 * @param {Target} t
 * @param {CallSpec[]} specs
 */
export function callAll(t, specs) {
  const responses = http.batch(specs.map((s) => prepare(t, s)));
  return specs.map((s, i) => finish(s, /** @type {import('k6/http').Response} */ (responses[i])));
}

/**
 * @param {Target} t
 * @param {ProductTemplate} template
 * @param {{ id: string, stock: number, sale_starts_at?: string }} input
 * @returns {AdminProductView}
 */
export function createProduct(t, template, input) {
  const res = call(t, { method: 'POST', path: '/api/admin/products', token: t.adminToken, json: { ...template, ...input }, expect: ['201'], phase: 'admin' });
  if (res.status !== 201) throw new Error(`create product: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * @param {Target} t
 * @param {string} productId
 * @returns {AdminProductView}
 */
export function adminProduct(t, productId) {
  const res = call(t, { method: 'GET', path: `/api/admin/products/${productId}`, name: 'GET /api/admin/products/:id', token: t.adminToken, expect: ['200'], phase: 'admin' });
  if (res.status !== 200) throw new Error(`read product: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/**
 * @param {Target} t
 * @param {string} productId
 * @param {'load' | 'admin'} [phase]
 */
export function getProduct(t, productId, phase) {
  return call(t, { method: 'GET', path: `/api/products/${productId}`, name: 'GET /api/products/:id', expect: EXPECT.read, phase });
}

/**
 * @param {Target} t
 * @param {string} token
 * @param {string} productId
 * @param {number} qty
 * @param {{ idempotencyKey?: string, expect?: readonly string[] }} [opts]
 * @returns {ApiResponse<HoldView>}
 */
export function placeHold(t, token, productId, qty, opts = {}) {
  return call(t, {
    method: 'POST',
    path: '/api/holds',
    token,
    json: { product_id: productId, qty },
    headers: opts.idempotencyKey ? { 'Idempotency-Key': opts.idempotencyKey } : {},
    expect: opts.expect || EXPECT.hold,
  });
}

/**
 * @param {Target} t
 * @param {string} token
 * @param {string} holdId
 * @returns {ApiResponse<HoldView>}
 */
export function releaseHold(t, token, holdId) {
  return call(t, { method: 'DELETE', path: `/api/holds/${holdId}`, name: 'DELETE /api/holds/:id', token, expect: EXPECT.release });
}

/**
 * @param {Target} t
 * @param {string} token
 * @param {string} holdId
 * @returns {ApiResponse<OrderView>}
 */
export function createOrder(t, token, holdId) {
  return call(t, { method: 'POST', path: '/api/orders', token, json: { hold_id: holdId }, expect: EXPECT.order });
}

/**
 * @param {Target} t
 * @param {string} token
 * @param {string} orderId
 * @returns {ApiResponse<OrderView>}
 */
export function getOrder(t, token, orderId) {
  return call(t, { method: 'GET', path: `/api/orders/${orderId}`, name: 'GET /api/orders/:id', token, expect: EXPECT.read });
}

/**
 * A signed delivery of a payment event (the signature covers the exact bytes sent).
 * @param {Target} t
 * @param {PaymentEvent} event
 * @param {readonly string[]} [expect]
 * @returns {CallSpec}
 */
export function paymentDelivery(t, event, expect = EXPECT.webhook) {
  const raw = JSON.stringify(event);
  return {
    method: 'POST',
    path: '/api/webhooks/payment',
    raw,
    headers: { 'Payment-Signature': paymentSignature(t.webhookSecret, raw) },
    expect,
    label: (body) => (body && typeof body === 'object' ? body.result : undefined),
  };
}

/**
 * @param {Target} t
 * @param {PaymentEvent} event
 * @param {readonly string[]} [expect]
 * @returns {ApiResponse<WebhookAnswer>}
 */
export function sendPaymentEvent(t, event, expect) {
  return call(t, paymentDelivery(t, event, expect));
}

/**
 * The event a payment provider sends for an order (or, before the order exists, for its hold).
 * @param {string} eventId
 * @param {PaymentEventType} type
 * @param {{ hold_id: string, order_id?: string, amount_minor: number, currency: string }} target
 * @returns {PaymentEvent}
 */
export function paymentEvent(eventId, type, target) {
  return {
    event_id: eventId,
    type,
    hold_id: target.hold_id,
    ...(target.order_id ? { order_id: target.order_id } : {}),
    amount_minor: target.amount_minor,
    currency: target.currency,
  };
}
