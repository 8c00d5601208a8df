import { createHmac } from 'node:crypto';
import { Hold, Problem } from '../../src/contract.js';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/http/jwt.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, JWT_SECRET, WEBHOOK_SECRET, uniq, type Harness } from '../support/harness.js';
import { answer, body } from '../support/answers.js';

/**
 * Hostile input (SPEC invariant 5: bad input never changes state and never crashes the process).
 * Every row is sent in-process AND over a real socket to the listening server; each must answer a 4xx
 * problem+json with the right code and leave the product's stock untouched.
 */

let h: Harness;
/** the product every row aims at */
let pid: string;

test.beforeAll(async ({ harness }) => {
  h = harness;
  pid = await h.createProduct({ stock: 10, per_user_limit: 50 });
});

type Transport = 'in-process' | 'socket';

interface Req {
  method?: string;
  path?: string;
  /** raw body, sent byte for byte (a Uint8Array, so nothing adds a Content-Type of its own) */
  body?: string;
  headers?: Record<string, string>;
}

interface Row {
  name: string;
  status: number;
  code: string;
  req(): Req;
  /** false: not sent with fetch (the raw-socket tests below cover it) */
  socket?: false;
}

const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const future = () => Math.floor(Date.now() / 1000) + 3600;
const customer = () => h.token(uniq('u'));
const json = { 'content-type': 'application/json' };
const bearer = (token: string) => ({ ...json, authorization: `Bearer ${token}` });
const asUser = () => bearer(customer());
const holdBody = (over: Record<string, unknown> = {}) => JSON.stringify({ product_id: pid, qty: 1, ...over });

function send(transport: Transport, r: Req): Promise<Response> {
  const init: RequestInit = { method: r.method ?? 'POST', headers: r.headers ?? {} };
  if (r.body !== undefined) init.body = new TextEncoder().encode(r.body);
  const path = r.path ?? '/api/holds';
  return transport === 'socket' ? fetch(h.url + path, init) : Promise.resolve(h.runtime.app.request(path, init));
}

async function expectProblem(res: Response, status: number, code: string): Promise<Problem> {
  const { status: answered, body: problem } = await answer(res, Problem);
  expect(answered, JSON.stringify(problem)).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/problem\+json(\s*;|$)/);
  expect(problem).toMatchObject({ status, code });
  for (const field of ['type', 'title', 'detail'] as const) expect(typeof problem[field]).toBe('string');
  expect(problem).not.toHaveProperty('stack');
  return problem;
}

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
const nestedObject = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const holdRows: Row[] = [
  // wrong types
  { name: 'qty as a string "1"', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ qty: '1' }) }) },
  { name: 'qty true', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ qty: true }) }) },
  { name: 'qty null', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ qty: null }) }) },
  { name: 'product_id a number', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ product_id: 5 }) }) },
  { name: 'product_id an object', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ product_id: { $gt: '' } }) }) },
  // numbers out of range
  { name: 'qty -1', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ qty: -1 }) }) },
  { name: 'qty 0', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ qty: 0 }) }) },
  { name: 'qty 1.5', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ qty: 1.5 }) }) },
  { name: 'qty 101', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ qty: 101 }) }) },
  { name: 'qty 1e309 (Infinity once parsed)', status: 400, code: 'invalid_request',
    req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":1e309}` }) },
  { name: 'qty -1e309', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":-1e309}` }) },
  { name: 'qty 9007199254740993 (beyond 2^53)', status: 400, code: 'invalid_request',
    req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":9007199254740993}` }) },
  { name: 'qty 1e-400 (underflows to 0)', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":1e-400}` }) },
  { name: 'qty NaN (not JSON)', status: 400, code: 'invalid_json', req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":NaN}` }) },
  // missing / extra fields, wrong shapes
  { name: 'qty missing', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: JSON.stringify({ product_id: pid }) }) },
  { name: 'product_id missing', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: JSON.stringify({ qty: 1 }) }) },
  { name: 'empty object', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: '{}' }) },
  { name: 'extra field (user_id)', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: holdBody({ user_id: 'someone-else' }) }) },
  { name: 'array instead of an object', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: `[${holdBody()}]` }) },
  { name: 'null body', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: 'null' }) },
  { name: 'a bare number', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: '1' }) },
  { name: 'a bare string', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: '"hold"' }) },
  { name: 'empty body', status: 400, code: 'invalid_json', req: () => ({ headers: asUser(), body: '' }) },
  { name: 'duplicate keys (last qty wins: 0)', status: 400, code: 'invalid_request',
    req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":1,"qty":0}` }) },
  { name: 'deeply nested arrays as product_id (5000 levels)', status: 400, code: 'invalid_request',
    req: () => ({ headers: asUser(), body: `{"product_id":${nested(5000)},"qty":1}` }) },
  { name: 'deeply nested objects (2500 levels)', status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: nestedObject(2500) }) },
  { name: 'trailing garbage after the JSON', status: 400, code: 'invalid_json', req: () => ({ headers: asUser(), body: `${holdBody()}}` }) },
  // prototype pollution
  { name: '__proto__ key', status: 400, code: 'invalid_request',
    req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":1,"__proto__":{"polluted":"yes","qty":100}}` }) },
  { name: '__proto__ carrying qty only', status: 400, code: 'invalid_request',
    req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","__proto__":{"qty":1}}` }) },
  { name: 'constructor.prototype key', status: 400, code: 'invalid_request',
    req: () => ({ headers: asUser(), body: `{"product_id":"${pid}","qty":1,"constructor":{"prototype":{"polluted":"yes"}}}` }) },
  // product ids that would break keys or Cluster hash tags
  ...['{p:x}', `${'{'}${'x'}`, 'a}b', 'p:1', 'has space', ' x', 'x\n', 'éclair', '产品', '🔥', '', 'a'.repeat(65), '../etc/passwd', '*', 'x\u0000y'].map(
    (id): Row => ({ name: `product_id ${JSON.stringify(id)}`, status: 400, code: 'invalid_request', req: () => ({ headers: asUser(), body: JSON.stringify({ product_id: id, qty: 1 }) }) }),
  ),
  // content types
  { name: 'text/plain', status: 415, code: 'unsupported_media_type', req: () => ({ headers: { ...asUser(), 'content-type': 'text/plain' }, body: holdBody() }) },
  { name: 'multipart/form-data', status: 415, code: 'unsupported_media_type',
    req: () => ({ headers: { ...asUser(), 'content-type': 'multipart/form-data; boundary=x' }, body: `--x\r\nContent-Disposition: form-data; name="qty"\r\n\r\n1\r\n--x--\r\n` }) },
  { name: 'no content type', status: 415, code: 'unsupported_media_type',
    req: () => ({ headers: { authorization: `Bearer ${customer()}` }, body: holdBody() }) },
  { name: 'application/jsonp', status: 415, code: 'unsupported_media_type', req: () => ({ headers: { ...asUser(), 'content-type': 'application/jsonp' }, body: holdBody() }) },
  { name: 'application/x-www-form-urlencoded', status: 415, code: 'unsupported_media_type',
    req: () => ({ headers: { ...asUser(), 'content-type': 'application/x-www-form-urlencoded' }, body: `product_id=${pid}&qty=1` }) },
  // size
  { name: 'body over 16 KiB (with Content-Length)', status: 413, code: 'payload_too_large',
    req: () => ({ headers: asUser(), body: holdBody({ pad: 'x'.repeat(16 * 1024) }) }) },
  // over a keep-alive socket a big refused body costs the next request (see "over raw sockets")
  { name: '256 KiB body', status: 413, code: 'payload_too_large', socket: false,
    req: () => ({ headers: asUser(), body: holdBody({ pad: 'x'.repeat(256 * 1024) }) }) },
  // tokens
  { name: 'no Authorization header', status: 401, code: 'unauthorized', req: () => ({ headers: json, body: holdBody() }) },
  { name: 'token signed with another secret', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(signJwt('another-secret-0123456789', { sub: 'mallory', exp: future() })), body: holdBody() }) },
  { name: 'expired token', status: 401, code: 'unauthorized', req: () => ({ headers: bearer(h.token('mallory', -30)), body: holdBody() }) },
  { name: 'alg: none with an empty signature', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(`${enc({ alg: 'none', typ: 'JWT' })}.${enc({ sub: 'mallory', exp: future() })}.`), body: holdBody() }) },
  { name: 'alg: none without a signature part', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(`${enc({ alg: 'none' })}.${enc({ sub: 'mallory', exp: future() })}`), body: holdBody() }) },
  { name: 'alg: HS256 header but no signature', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(`${enc({ alg: 'HS256', typ: 'JWT' })}.${enc({ sub: 'mallory', exp: future() })}.`), body: holdBody() }) },
  { name: 'alg: HS512 signed with the right secret', status: 401, code: 'unauthorized',
    req: () => {
      const head = `${enc({ alg: 'HS512', typ: 'JWT' })}.${enc({ sub: 'mallory', exp: future() })}`;
      return { headers: bearer(`${head}.${createHmac('sha512', JWT_SECRET).update(head).digest('base64url')}`), body: holdBody() };
    } },
  { name: 'token without exp', status: 401, code: 'unauthorized', req: () => ({ headers: bearer(signJwt(JWT_SECRET, { sub: 'mallory' })), body: holdBody() }) },
  { name: 'token with exp as a string', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(signJwt(JWT_SECRET, { sub: 'mallory', exp: String(future()) })), body: holdBody() }) },
  { name: 'token without sub', status: 401, code: 'unauthorized', req: () => ({ headers: bearer(signJwt(JWT_SECRET, { exp: future() })), body: holdBody() }) },
  { name: 'token with a numeric sub', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(signJwt(JWT_SECRET, { sub: 42, exp: future() })), body: holdBody() }) },
  { name: 'token with an empty sub', status: 401, code: 'unauthorized', req: () => ({ headers: bearer(signJwt(JWT_SECRET, { sub: '', exp: future() })), body: holdBody() }) },
  // stored as UTF-8 it would read 'mallory\ufffd', as 'mallory\udc00' would: two customers, one identity in Redis
  { name: 'token whose sub has an unpaired surrogate', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(signJwt(JWT_SECRET, { sub: 'mallory\ud800', exp: future() })), body: holdBody() }) },
  { name: 'token with nbf in the future', status: 401, code: 'unauthorized',
    req: () => ({ headers: bearer(signJwt(JWT_SECRET, { sub: 'mallory', exp: future(), nbf: future() })), body: holdBody() }) },
  { name: 'payload tampered after signing (sub swapped)', status: 401, code: 'unauthorized',
    req: () => {
      const [head, , sig] = h.token('alice').split('.');
      return { headers: bearer(`${head}.${enc({ sub: 'mallory', exp: future() })}.${sig}`), body: holdBody() };
    } },
  { name: 'the admin token as a customer bearer', status: 401, code: 'unauthorized', req: () => ({ headers: bearer(ADMIN_TOKEN), body: holdBody() }) },
  { name: 'Basic auth', status: 401, code: 'unauthorized',
    req: () => ({ headers: { ...json, authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }, body: holdBody() }) },
  { name: '10 KB token', status: 401, code: 'unauthorized', req: () => ({ headers: bearer(`${'a'.repeat(10_000)}.b.c`), body: holdBody() }) },
  // Idempotency-Key
  { name: 'empty Idempotency-Key', status: 400, code: 'invalid_request', req: () => ({ headers: { ...asUser(), 'idempotency-key': '' }, body: holdBody() }) },
  { name: '256-character Idempotency-Key', status: 400, code: 'invalid_request',
    req: () => ({ headers: { ...asUser(), 'idempotency-key': 'k'.repeat(256) }, body: holdBody() }) },
  { name: 'Idempotency-Key with a tab', status: 400, code: 'invalid_request', req: () => ({ headers: { ...asUser(), 'idempotency-key': 'ab\tcd' }, body: holdBody() }) },
  { name: 'Idempotency-Key with \\x01', status: 400, code: 'invalid_request', socket: false,
    req: () => ({ headers: { ...asUser(), 'idempotency-key': 'ab\x01cd' }, body: holdBody() }) },
  { name: 'Idempotency-Key with DEL', status: 400, code: 'invalid_request', socket: false,
    req: () => ({ headers: { ...asUser(), 'idempotency-key': 'ab\x7fcd' }, body: holdBody() }) },
  { name: 'Idempotency-Key with a latin-1 byte', status: 400, code: 'invalid_request', req: () => ({ headers: { ...asUser(), 'idempotency-key': 'caf\u00e9' }, body: holdBody() }) },
  { name: 'Idempotency-Key as a broken sf-string', status: 400, code: 'invalid_request', req: () => ({ headers: { ...asUser(), 'idempotency-key': '"ab"cd"' }, body: holdBody() }) },
];

const adminRows: Row[] = [
  { name: 'admin: negative stock', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'x', unit_price_minor: 1, currency: 'EUR', stock: -5 }) }) },
  { name: 'admin: fractional price', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'x', unit_price_minor: 9.99, currency: 'EUR', stock: 1 }) }) },
  { name: 'admin: hash-tag injection in the id', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ id: `${pid}}:{p:x`, name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1 }) }) },
  { name: 'admin: sale ends before it starts', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN),
      body: JSON.stringify({ name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1, sale_starts_at: '2030-01-02T00:00:00Z', sale_ends_at: '2030-01-01T00:00:00Z' }) }) },
  { name: 'admin: a date that is not a date', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1, sale_starts_at: "'; DROP TABLE products; --" }) }) },
  // valid RFC 3339 whose instant Postgres cannot store (years 0 and 10000 in UTC), and a NUL it cannot hold
  { name: 'admin: a sale start in year 0', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1, sale_starts_at: '0000-01-01T00:00:00Z' }) }) },
  { name: 'admin: a sale end in year 0 in UTC', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1, sale_ends_at: '0001-01-01T00:00:00+14:00' }) }) },
  { name: 'admin: a raffle closing in year 10000 in UTC', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'x', unit_price_minor: 1, currency: 'EUR', stock: 1, admission: 'raffle', raffle_closes_at: '9999-12-31T23:59:59-12:00' }) }) },
  { name: 'admin: PATCH a sale end in year 10000 in UTC', status: 400, code: 'invalid_request',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(ADMIN_TOKEN), body: '{"sale_ends_at":"9999-12-31T23:59:59-12:00"}' }) },
  { name: 'admin: a name with NUL', status: 400, code: 'invalid_request',
    req: () => ({ path: '/api/admin/products', headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'Sneaker\u0000', unit_price_minor: 1, currency: 'EUR', stock: 1 }) }) },
  { name: 'admin: PATCH a name with NUL', status: 400, code: 'invalid_request',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(ADMIN_TOKEN), body: '{"name":"a\\u0000b"}' }) },
  { name: 'admin: __proto__ in a PATCH', status: 400, code: 'invalid_request',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(ADMIN_TOKEN), body: '{"__proto__":{"stock":0},"stock":1000000}' }) },
  { name: 'admin: PATCH stock as a string', status: 400, code: 'invalid_request',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(ADMIN_TOKEN), body: '{"stock":"0"}' }) },
  { name: 'admin: PATCH the currency (not patchable)', status: 400, code: 'invalid_request',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(ADMIN_TOKEN), body: '{"currency":"USD"}' }) },
  { name: 'admin: PATCH stock below what is held', status: 409, code: 'stock_below_committed',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(ADMIN_TOKEN), body: '{"stock":0}' }) },
  { name: 'admin: PATCH with a customer token', status: 403, code: 'forbidden',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: asUser(), body: '{"stock":1000}' }) },
  { name: 'admin: PATCH with a forged token', status: 401, code: 'unauthorized',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(signJwt('another-secret-0123456789', { sub: 'admin', exp: future() })), body: '{"stock":1000}' }) },
  { name: 'admin: PATCH with an oversized body', status: 413, code: 'payload_too_large',
    req: () => ({ method: 'PATCH', path: `/api/admin/products/${pid}`, headers: bearer(ADMIN_TOKEN), body: JSON.stringify({ name: 'x'.repeat(20_000) }) }) },
];

const webhookRows: Row[] = [
  { name: 'webhook: unsigned', status: 401, code: 'invalid_signature',
    req: () => ({ path: '/api/webhooks/payment', headers: json, body: JSON.stringify({ event_id: uniq('e'), type: 'payment.succeeded', hold_id: `h_1_${pid}`, amount_minor: 0, currency: 'EUR' }) }) },
  { name: 'webhook: signed garbage', status: 400, code: 'invalid_json',
    req: () => ({ path: '/api/webhooks/payment', headers: { ...json, 'payment-signature': signPayload(WEBHOOK_SECRET, '{oops') }, body: '{oops' }) },
  { name: 'webhook: signed, wrong shape', status: 400, code: 'invalid_request',
    req: () => {
      const raw = JSON.stringify({ event_id: uniq('e'), type: 'payment.refunded', hold_id: `h_1_${pid}`, amount_minor: -1, currency: 'eur' });
      return { path: '/api/webhooks/payment', headers: { ...json, 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }, body: raw };
    } },
  { name: 'webhook: signed, __proto__ smuggled', status: 400, code: 'invalid_request',
    req: () => {
      const raw = `{"event_id":"${uniq('e')}","type":"payment.succeeded","hold_id":"h_1_${pid}","amount_minor":0,"currency":"EUR","__proto__":{"polluted":"yes"}}`;
      return { path: '/api/webhooks/payment', headers: { ...json, 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }, body: raw };
    } },
  { name: 'webhook: signed, a hold id with NUL', status: 404, code: 'hold_not_found',
    req: () => {
      const raw = JSON.stringify({ event_id: uniq('e'), type: 'payment.succeeded', hold_id: `h_1_${pid}\u0000`, amount_minor: 0, currency: 'EUR' });
      return { path: '/api/webhooks/payment', headers: { ...json, 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }, body: raw };
    } },
  { name: 'webhook: text/plain', status: 415, code: 'unsupported_media_type',
    req: () => ({ path: '/api/webhooks/payment', headers: { 'content-type': 'text/plain', 'payment-signature': signPayload(WEBHOOK_SECRET, '{}') }, body: '{}' }) },
  { name: 'webhook: oversized', status: 413, code: 'payload_too_large',
    req: () => {
      const raw = JSON.stringify({ event_id: 'e'.repeat(20_000) });
      return { path: '/api/webhooks/payment', headers: { ...json, 'payment-signature': signPayload(WEBHOOK_SECRET, raw) }, body: raw };
    } },
];

const rows = [...holdRows, ...adminRows, ...webhookRows];

describe.each<Transport>(['in-process', 'socket'])('hostile input (%s)', (transport) => {
  beforeAll(async () => {
    // something held, so "stock below committed" has something to protect
    const res = await h.request('POST', '/api/holds', { token: h.token(uniq('holder')), body: { product_id: pid, qty: 1 } });
    expect(res.status).toBe(201);
  });

  it.each(rows.filter((r) => transport === 'in-process' || r.socket !== false))('$status $code — $name', async (row) => {
    const before = await h.stock(pid);
    await expectProblem(await send(transport, row.req()), row.status, row.code);
    expect(await h.stock(pid)).toEqual(before);
  });

  it('413 payload_too_large — chunked body without Content-Length over 16 KiB', async () => {
    const before = await h.stock(pid);
    const chunk = new TextEncoder().encode('x'.repeat(1024));
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(new TextEncoder().encode(`{"product_id":"${pid}","qty":1,"pad":"`));
      },
      pull(c) {
        if (sent++ < 64) c.enqueue(chunk);
        else {
          c.enqueue(new TextEncoder().encode('"}'));
          c.close();
        }
      },
    });
    const init = { method: 'POST', headers: asUser(), body, duplex: 'half' } as RequestInit;
    const res = transport === 'socket' ? await fetch(`${h.url}/api/holds`, init) : await h.runtime.app.request('/api/holds', init);
    await expectProblem(res, 413, 'payload_too_large');
    expect(await h.stock(pid)).toEqual(before);
  });

  it('a chunked body under the limit is still accepted', async () => {
    const stream = new ReadableStream<Uint8Array>({
      start(c) {
        for (const part of ['{"product_id":', `"${pid}",`, '"qty":1}']) c.enqueue(new TextEncoder().encode(part));
        c.close();
      },
    });
    const init = { method: 'POST', headers: asUser(), body: stream, duplex: 'half' } as RequestInit;
    const res = transport === 'socket' ? await fetch(`${h.url}/api/holds`, init) : await h.runtime.app.request('/api/holds', init);
    expect(res.status).toBe(201);
    const hold = await body(res, Hold);
    const del = await h.request('DELETE', `/api/holds/${hold.id}`, { token: h.token(hold.user_id) });
    expect(del.status).toBe(200);
  });
});

/** One HTTP/1.1 exchange written byte for byte on a fresh TCP connection; resolves with what came back. */
function rawExchange(head: string, body = ''): Promise<{ status: number; headers: string; body: string }> {
  const { port } = new URL(h.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), '127.0.0.1', () => sock.write(`${head}\r\n\r\n${body}`, 'latin1'));
    let buf = '';
    sock.setTimeout(5000, () => sock.destroy(new Error('no answer within 5 s')));
    sock.on('data', (d) => (buf += d.toString('latin1')));
    sock.on('error', reject);
    sock.on('close', () => {
      const split = buf.indexOf('\r\n\r\n');
      resolve({ status: Number(buf.slice(9, 12)), headers: buf.slice(0, split), body: buf.slice(split + 4) });
    });
  });
}

/** A request through node:http on a given agent (keep-alive agents reuse one socket). */
function viaAgent(agent: Agent, method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest(`${h.url}${path}`, { method, headers, agent }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (data += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('over raw sockets', () => {
  it.each([
    ['\\x01', 'ab\x01cd'],
    ['DEL', 'ab\x7fcd'],
  ])('an Idempotency-Key with %s is refused with a 400 and nothing changes', async (_, key) => {
    const before = await h.stock(pid);
    const body = holdBody();
    const res = await rawExchange(
      [
        'POST /api/holds HTTP/1.1',
        'Host: localhost',
        'Content-Type: application/json',
        `Authorization: Bearer ${customer()}`,
        `Idempotency-Key: ${key}`,
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
      ].join('\r\n'),
      body,
    );
    // Node's HTTP parser refuses these bytes before the app sees the request
    expect(res.status).toBe(400);
    expect(await h.stock(pid)).toEqual(before);
  });

  it.each([
    ['a request line that is not HTTP', 'GARBAGE\u0000\u0001 / HTTP/9.9'],
    ['a header without a colon', 'POST /api/holds HTTP/1.1\r\nHost: x\r\nthis is not a header'],
    ['a Content-Length that lies (short body, then close)', 'POST /api/holds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nConnection: close'],
    ['both Content-Length and Transfer-Encoding (smuggling)', 'POST /api/holds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked'],
  ])('%s: the server answers or closes, and stays up', async (_, head) => {
    const before = await h.stock(pid);
    const sock = rawExchange(head, '{"product_id"');
    // a lying Content-Length leaves the server waiting for bytes; the client giving up must not hurt it
    const res = await Promise.race([sock, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
    if (res && res.status) expect(res.status).toBeGreaterThanOrEqual(400);
    expect((await fetch(`${h.url}/health/live`)).status).toBe(200);
    expect(await h.stock(pid)).toEqual(before);
  });

  const sizes: [string, number][] = [
    ['64 KiB', 64 * 1024],
    ['256 KiB', 256 * 1024],
    ['1 MiB', 1024 * 1024],
  ];

  it.each(sizes)('a %s body on a fresh connection is refused with 413 problem+json', async (_, size) => {
    const agent = new Agent({ keepAlive: false });
    try {
      const before = await h.stock(pid);
      const res = await viaAgent(agent, 'POST', '/api/holds', asUser(), holdBody({ pad: 'x'.repeat(size) }));
      expect(res.status).toBe(413);
      expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
      expect(Problem.parse(JSON.parse(res.body))).toMatchObject({ status: 413, code: 'payload_too_large' });
      expect(await h.stock(pid)).toEqual(before);
    } finally {
      agent.destroy();
    }
  });

  it.each(sizes)('after a %s body is refused, the next request on the same keep-alive connection is served', async (_, size) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const big = await viaAgent(agent, 'POST', '/api/holds', asUser(), holdBody({ pad: 'x'.repeat(size) }));
      expect(big.status).toBe(413);
      await new Promise((r) => setTimeout(r, 50));
      // the 413 did not say `Connection: close`, so the client reuses the socket: that request must be served
      const next = await viaAgent(agent, 'GET', `/api/products/${pid}`, {});
      expect(next.status).toBe(200);
    } finally {
      agent.destroy();
    }
  });
});

describe('after the barrage', () => {
  it('nothing polluted Object.prototype', () => {
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).qty).toBeUndefined();
    expect(({} as Record<string, unknown>).stock).toBeUndefined();
  });

  it('the process is healthy, over the socket too, and a normal hold still works', async () => {
    expect((await h.request('GET', '/health/live')).status).toBe(200);
    expect((await fetch(`${h.url}/health/live`)).status).toBe(200);
    const before = await h.stock(pid);
    expect(before).toMatchObject({ total: 10, held: 2, pending_payment: 0, sold: 0 });
    const res = await fetch(`${h.url}/api/holds`, { method: 'POST', headers: asUser(), body: holdBody({ qty: 2 }) });
    expect(res.status).toBe(201);
    expect(await body(res, Hold)).toMatchObject({ product_id: pid, qty: 2, status: 'active' });
    expect(await h.stock(pid)).toEqual({ ...before, available: before.available - 2, held: before.held + 2 });
  });
});
