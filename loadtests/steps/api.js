// The engine's API as the scenarios use it: one method per step, each knowing which answers are normal
// for it (anything else counts as unexpected). It runs on the runner's HTTP adapter and reports every
// load-phase outcome to the runner's statistics; setup and verification use an unrecorded copy.
import { customerToken, paymentSignature } from './auth.js';

/**
 * @typedef {import('./types.js').Http} Http
 * @typedef {import('./types.js').Crypto} Crypto
 * @typedef {import('./types.js').Credentials} Credentials
 * @typedef {import('./types.js').Outcome} Outcome
 * @typedef {import('./types.js').ProductTemplate} ProductTemplate
 * @typedef {import('./types.js').AdminProductView} AdminProductView
 * @typedef {import('./types.js').ProductView} ProductView
 * @typedef {import('./types.js').HoldView} HoldView
 * @typedef {import('./types.js').OrderView} OrderView
 * @typedef {import('./types.js').PaymentEvent} PaymentEvent
 * @typedef {import('./types.js').PaymentEventType} PaymentEventType
 * @typedef {import('./types.js').WebhookAnswer} WebhookAnswer
 * @typedef {import('./types.js').TicketView} TicketView
 */

/**
 * @template T
 * @typedef {object} ApiResponse
 * @property {number} status 0 = no response
 * @property {string | undefined} code problem+json `code` of an error answer
 * @property {T} body parsed JSON (or the raw text)
 * @property {Record<string, string | undefined>} headers lower-case names
 * @property {number} ms
 * @property {boolean} expected whether the outcome was among the expected ones
 */

/**
 * @typedef {object} CallSpec
 * @property {string} method
 * @property {string} path
 * @property {readonly string[]} expect outcome keys (`409 insufficient_stock`) or bare statuses (`201`)
 * @property {string} [name] request name for the statistics; default `METHOD path`
 * @property {string} [token] bearer token
 * @property {unknown} [json] JSON body (serialized here)
 * @property {string} [raw] body sent as is (signed webhooks: the signature covers these exact bytes)
 * @property {Record<string, string>} [headers] lower-case names
 * @property {(body: unknown) => string | undefined} [label] labels a success in the statistics (a webhook's `result`), like `code` labels an error
 */

/** How long a request may take before it counts as a network error. */
export const REQUEST_TIMEOUT_MS = 15_000;

/** A rate limiter may answer any customer call with 429; clients back off as Retry-After says (see `backoffMs`). */
export const RATE_LIMITED = '429 rate_limited';

/**
 * How a client backs off from `429` and `503`: it waits what `Retry-After` says (at least `minMs`),
 * twice as long after each further refusal (at most `maxMs`), plus up to `jitter` of that at random so
 * customers refused together do not come back together, and gives up after `retries` retries.
 */
export const BACKOFF = { retries: 4, minMs: 250, maxMs: 8_000, jitter: 0.5 };

/** A hold on a waiting room's product by a customer it has not admitted (or no longer admits). */
export const NOT_ADMITTED = '403 not_admitted';

/** The answers each kind of step expects. */
export const EXPECT = {
  hold: ['201', '409 insufficient_stock', RATE_LIMITED],
  join: ['201', '200', RATE_LIMITED],
  order: ['201', '200', '410 hold_expired', '409 hold_not_active', RATE_LIMITED],
  read: ['200', RATE_LIMITED],
  release: ['200', RATE_LIMITED],
  webhook: ['200'],
};

/** The names load-phase requests are recorded under (k6 keeps per-name statistics for these). */
export const REQUEST_NAMES = [
  'POST /api/holds',
  'GET /api/holds/:id',
  'DELETE /api/holds/:id',
  'POST /api/orders',
  'GET /api/orders/:id',
  'POST /api/webhooks/payment',
  'GET /api/products/:id',
  'POST /api/products/:id/queue',
  'GET /api/products/:id/queue',
];

/**
 * `201`, `409 insufficient_stock`, `network_error`: the key outcomes are counted and expected by.
 * @param {number} status
 * @param {string | undefined} [code]
 */
export function outcomeKey(status, code) {
  if (status === 0) return 'network_error';
  return code ? `${status} ${code}` : String(status);
}

/**
 * Expectations are outcome keys or bare statuses: `201` matches any 201, `409 sale_not_started` only that code.
 * @param {readonly string[]} expect
 * @param {number} status
 * @param {string | undefined} [code]
 */
export function isExpected(expect, status, code) {
  return expect.includes(String(status)) || (code !== undefined && expect.includes(outcomeKey(status, code)));
}

/** Thrown by setup and verification steps when the engine answers something they cannot work with. */
export class StepError extends Error {
  /**
   * @param {string} step
   * @param {ApiResponse<unknown>} res
   */
  constructor(step, res) {
    super(`${step}: HTTP ${res.status || 'network error'} ${res.code ?? ''} ${typeof res.body === 'string' ? res.body : JSON.stringify(res.body)}`.trim());
    this.name = 'StepError';
  }
}

/** @param {import('./types.js').HttpResponse} res @returns {unknown} */
function parseBody(res) {
  if (res.body.length === 0 || !/json/.test(res.headers['content-type'] ?? '')) return res.body;
  try {
    return JSON.parse(res.body);
  } catch {
    return res.body;
  }
}

/** @param {unknown} body */
const problemCode = (body) =>
  typeof body === 'object' && body !== null && 'code' in body && typeof body.code === 'string' ? body.code : undefined;

/**
 * @typedef {object} EngineApiOptions
 * @property {string} baseUrl
 * @property {Http} http
 * @property {Crypto} crypto
 * @property {Credentials} credentials
 * @property {(ms: number) => Promise<void>} [sleep] waits out a `Retry-After`; without it every answer is final (no back-off)
 * @property {(outcome: Outcome) => void} [record] receives every outcome; without it calls are not recorded
 */

/**
 * How long to wait before asking again after `res`, or undefined when the answer is final: only `429`
 * and `503` are retried, at most `BACKOFF.retries` times.
 * @param {{ status: number, headers: Record<string, string | undefined> }} res
 * @param {number} retry how many retries came before (0 for the first)
 * @returns {number | undefined}
 */
export function backoffMs(res, retry) {
  if ((res.status !== 429 && res.status !== 503) || retry >= BACKOFF.retries) return undefined;
  const seconds = Number(res.headers['retry-after']);
  const base = Math.max(BACKOFF.minMs, Number.isFinite(seconds) ? seconds * 1000 : 0);
  const wait = Math.min(BACKOFF.maxMs, base * 2 ** retry);
  return wait * (1 + BACKOFF.jitter * Math.random());
}

export class EngineApi {
  /** @param {EngineApiOptions} options */
  constructor(options) {
    this.options = options;
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  /** The same engine without recording (setup, verification). */
  unrecorded() {
    return new EngineApi({ ...this.options, record: undefined });
  }

  /**
   * One request as a well-behaved client makes it: a `429` or `503` is waited out as `Retry-After` says and
   * asked again (see `backoffMs`). Every answer is recorded, the refusals too; a `429` the client gave up
   * on counts as unexpected.
   * @param {CallSpec} spec
   * @returns {Promise<ApiResponse<any>>}
   */
  async call(spec) {
    /** @type {Record<string, string>} */
    const headers = { ...spec.headers };
    if (spec.token) headers.authorization = `Bearer ${spec.token}`;
    const body = spec.json !== undefined ? JSON.stringify(spec.json) : spec.raw;
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    const name = spec.name ?? `${spec.method} ${spec.path}`;
    const { record, http, sleep } = this.options;
    for (let retry = 0; ; retry++) {
      const res = await http({ method: spec.method, url: `${this.baseUrl}${spec.path}`, headers, body, name, recorded: record !== undefined, expect: spec.expect });
      const parsed = parseBody(res);
      const code = problemCode(parsed);
      const wait = sleep ? backoffMs(res, retry) : undefined;
      const gaveUp = sleep !== undefined && res.status === 429 && wait === undefined;
      const expected = isExpected(spec.expect, res.status, code) && !gaveUp;
      if (record) {
        const label = code ?? (res.status >= 200 && res.status < 300 ? spec.label?.(parsed) : undefined);
        const detail = expected ? undefined : (res.error ?? (gaveUp ? `gave up after ${retry} retries: ${res.body}` : res.body));
        record({ name, status: res.status, code: label, ms: res.ms, expected, detail });
      }
      if (wait === undefined) return { status: res.status, code, body: parsed, headers: res.headers, ms: res.ms, expected };
      await sleep?.(wait);
    }
  }

  /**
   * A bearer token for another customer than the VU's own (scenarios where a VU drives many customers).
   * @param {string} userId
   * @param {number} ttlS
   */
  customerToken(userId, ttlS) {
    return customerToken(this.options.crypto, this.options.credentials.jwtSecret, userId, ttlS);
  }

  /**
   * @param {ProductTemplate} template
   * @param {{ id: string, stock: number } & import('./types.js').ProductExtras} input
   * @returns {Promise<AdminProductView>}
   */
  async createProduct(template, input) {
    const res = await this.call({ method: 'POST', path: '/api/admin/products', token: this.options.credentials.adminToken, json: { ...template, ...input }, expect: ['201'] });
    if (res.status !== 201) throw new StepError('create product', res);
    return res.body;
  }

  /**
   * @param {string} productId
   * @returns {Promise<AdminProductView>}
   */
  async adminProduct(productId) {
    const res = await this.call({ method: 'GET', path: `/api/admin/products/${productId}`, name: 'GET /api/admin/products/:id', token: this.options.credentials.adminToken, expect: ['200'] });
    if (res.status !== 200) throw new StepError('read product', res);
    return res.body;
  }

  /**
   * @param {string} productId
   * @returns {Promise<ApiResponse<ProductView>>}
   */
  getProduct(productId) {
    return this.call({ method: 'GET', path: `/api/products/${productId}`, name: 'GET /api/products/:id', expect: EXPECT.read });
  }

  /**
   * @param {string} token
   * @param {string} productId
   * @param {number} qty
   * @param {{ idempotencyKey?: string, expect?: readonly string[] }} [opts]
   * @returns {Promise<ApiResponse<HoldView>>}
   */
  placeHold(token, productId, qty, opts = {}) {
    return this.call({
      method: 'POST',
      path: '/api/holds',
      token,
      json: { product_id: productId, qty },
      headers: opts.idempotencyKey ? { 'idempotency-key': opts.idempotencyKey } : {},
      expect: opts.expect ?? EXPECT.hold,
    });
  }

  /**
   * Joins a product's waiting room (201 the first time, 200 with the same ticket after).
   * @param {string} token
   * @param {string} productId
   * @returns {Promise<ApiResponse<TicketView>>}
   */
  joinQueue(token, productId) {
    return this.call({ method: 'POST', path: `/api/products/${productId}/queue`, name: 'POST /api/products/:id/queue', token, expect: EXPECT.join });
  }

  /**
   * The customer's ticket in a product's waiting room.
   * @param {string} token
   * @param {string} productId
   * @returns {Promise<ApiResponse<TicketView>>}
   */
  readTicket(token, productId) {
    return this.call({ method: 'GET', path: `/api/products/${productId}/queue`, name: 'GET /api/products/:id/queue', token, expect: EXPECT.read });
  }

  /**
   * @param {string} token
   * @param {string} holdId
   * @returns {Promise<ApiResponse<HoldView>>}
   */
  getHold(token, holdId) {
    return this.call({ method: 'GET', path: `/api/holds/${holdId}`, name: 'GET /api/holds/:id', token, expect: EXPECT.read });
  }

  /**
   * @param {string} token
   * @param {string} holdId
   * @returns {Promise<ApiResponse<HoldView>>}
   */
  releaseHold(token, holdId) {
    return this.call({ method: 'DELETE', path: `/api/holds/${holdId}`, name: 'DELETE /api/holds/:id', token, expect: EXPECT.release });
  }

  /**
   * @param {string} token
   * @param {string} holdId
   * @returns {Promise<ApiResponse<OrderView>>}
   */
  createOrder(token, holdId) {
    return this.call({ method: 'POST', path: '/api/orders', token, json: { hold_id: holdId }, expect: EXPECT.order });
  }

  /**
   * @param {string} token
   * @param {string} orderId
   * @returns {Promise<ApiResponse<OrderView>>}
   */
  getOrder(token, orderId) {
    return this.call({ method: 'GET', path: `/api/orders/${orderId}`, name: 'GET /api/orders/:id', token, expect: EXPECT.read });
  }

  /**
   * Delivers a payment event, signed over the exact body sent.
   * @param {PaymentEvent} event
   * @param {readonly string[]} [expect]
   * @returns {Promise<ApiResponse<WebhookAnswer>>}
   */
  sendPaymentEvent(event, expect = EXPECT.webhook) {
    const raw = JSON.stringify(event);
    const { crypto, credentials } = this.options;
    return this.call({
      method: 'POST',
      path: '/api/webhooks/payment',
      raw,
      headers: { 'payment-signature': paymentSignature(crypto, credentials.webhookSecret, raw) },
      expect,
      label: (body) => (typeof body === 'object' && body !== null && 'result' in body ? String(body.result) : undefined),
    });
  }
}

/**
 * The event a payment provider sends for an order (or, before the order exists, for its hold).
 * @param {string} eventId
 * @param {PaymentEventType} type
 * @param {{ hold_id: string, order_id?: string | undefined, amount_minor: number, currency: string }} target
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
