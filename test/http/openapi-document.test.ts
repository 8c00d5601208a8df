import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { AppError, ErrorCode } from '../../src/errors.js';
import { test } from '../support/fixtures.js';
import type { Harness } from '../support/harness.js';

/** The document's structure (OpenAPI 3.1: paths, components, resolvable $refs) and its fit with the app's routes. */

test.override('harnessOptions', { inProcess: true });
let h: Harness;
let doc: Record<string, any>;
test.beforeAll(async ({ harness }) => {
  h = harness;
  const res = await h.request('GET', '/openapi.json');
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json');
  doc = (await res.json()) as Record<string, any>;
});

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

function operations(): { method: string; path: string; op: Record<string, any> }[] {
  return Object.entries(doc.paths as Record<string, Record<string, any>>).flatMap(([path, item]) =>
    METHODS.filter((m) => item[m]).map((method) => ({ method, path, op: item[method] })),
  );
}

/** Every value of `key` anywhere in the document. */
function collect(value: unknown, key: string, out: unknown[] = []): unknown[] {
  if (Array.isArray(value)) value.forEach((v) => collect(v, key, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === key) out.push(v);
      collect(v, key, out);
    }
  }
  return out;
}

function resolve(ref: string): unknown {
  expect(ref.startsWith('#/')).toBe(true);
  return ref
    .slice(2)
    .split('/')
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
    .reduce<unknown>((node, segment) => (node && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined), doc);
}

/** The problem codes a documented error answer carries. */
function codesOf(response: Record<string, any>): string[] {
  return z.array(z.string()).parse(response.content['application/problem+json'].schema.allOf[1].properties.code.enum);
}

describe('the OpenAPI document', () => {
  it('is OpenAPI 3.1 with info, paths and components', () => {
    expect(doc.openapi).toMatch(/^3\.1\.\d+$/);
    expect(doc.info).toMatchObject({ title: expect.any(String), version: expect.stringMatching(/^\d+\.\d+\.\d+/) });
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    for (const path of Object.keys(doc.paths)) expect(path).toMatch(/^\//);
    expect(Object.keys(doc.components.schemas)).toEqual(expect.arrayContaining(['Problem', 'ErrorCode', 'Hold', 'Order', 'Product', 'AdminProduct', 'PaymentEvent']));
  });

  it('resolves every $ref inside the document', () => {
    const refs = collect(doc, '$ref');
    expect(refs.length).toBeGreaterThan(50);
    for (const ref of refs) expect(resolve(String(ref)), String(ref)).toBeTypeOf('object');
  });

  it('gives each operation a unique id, a tag, answers with descriptions, and its path parameters', () => {
    const ops = operations();
    expect(new Set(ops.map((o) => o.op.operationId)).size).toBe(ops.length);
    const tags = new Set((doc.tags as { name: string }[]).map((t) => t.name));
    for (const { path, op } of ops) {
      expect(op.tags.every((t: string) => tags.has(t)), op.operationId).toBe(true);
      expect(Object.keys(op.responses).length, op.operationId).toBeGreaterThan(0);
      for (const r of Object.values(op.responses) as Record<string, any>[]) expect(r.description, op.operationId).toBeTruthy();
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const declared = (op.parameters ?? []).filter((p: any) => p.in === 'path');
      expect(declared.map((p: any) => p.name).sort(), op.operationId).toEqual(templated.sort());
      for (const p of declared) expect(p.required).toBe(true);
    }
  });

  it('names only declared security schemes: customer and admin bearer tokens, webhook signatures', () => {
    const schemes = doc.components.securitySchemes as Record<string, any>;
    expect(schemes.customerToken).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    expect(schemes.adminToken).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.paymentSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'Payment-Signature' });
    expect(schemes.stripeSignature).toMatchObject({ type: 'apiKey', in: 'header', name: 'Stripe-Signature' });
    for (const { op } of operations()) {
      for (const requirement of op.security ?? []) for (const name of Object.keys(requirement)) expect(schemes[name], op.operationId).toBeDefined();
    }
    const adyen = doc.paths['/api/webhooks/adyen'].post;
    expect(adyen.description).toContain('additionalData.hmacSignature');
  });

  it('documents the headers: Idempotency-Key in, Idempotent-Replayed, Retry-After and WWW-Authenticate out', () => {
    const hold = doc.paths['/api/holds'].post;
    expect(hold.parameters).toContainEqual(expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false }));
    expect(hold.responses['201'].headers['Idempotent-Replayed']).toMatchObject({ required: false });
    for (const { op } of operations()) {
      for (const status of ['429', '503']) {
        const r = op.responses[status];
        if (r?.content?.['application/problem+json']) expect(r.headers?.['Retry-After'], `${op.operationId} ${status}`).toMatchObject({ required: true });
      }
      const unauthorized = op.responses['401'];
      if (unauthorized && codesOf(unauthorized).includes('unauthorized')) {
        expect(unauthorized.headers?.['WWW-Authenticate'], op.operationId).toMatchObject({ required: true });
      }
    }
  });

  it('lists on each error answer the problem codes it carries, each at the status errors.ts gives it', () => {
    for (const { op } of operations()) {
      for (const [status, r] of Object.entries(op.responses) as [string, Record<string, any>][]) {
        if (Number(status) < 400 || !r.content?.['application/problem+json']) continue;
        const codes = codesOf(r);
        expect(codes.length, `${op.operationId} ${status}`).toBeGreaterThan(0);
        for (const code of codes) {
          expect(new AppError(ErrorCode.parse(code)).status, `${op.operationId} ${status} ${code}`).toBe(Number(status));
          expect(r.description).toContain(`\`${code}\``);
        }
        expect(Object.keys(r.content['application/problem+json'].examples).sort()).toEqual([...codes].sort());
      }
    }
  });

  it('documents every problem code the engine raises', () => {
    const documented = new Set<string>(['not_found', 'method_not_allowed']); // the NoRoute and MethodNotAllowed answers
    for (const { op } of operations()) {
      for (const [status, r] of Object.entries(op.responses) as [string, Record<string, any>][]) {
        if (Number(status) >= 400 && r.content?.['application/problem+json']) codesOf(r).forEach((c) => documented.add(c));
      }
    }
    expect(doc.components.responses.NoRoute.description).toContain('`not_found`');
    expect(doc.components.responses.MethodNotAllowed.description).toContain('`method_not_allowed`');
    // never raised: a hold is placed in one atomic script call, so no request waits on another's key
    const neverRaised = ['idempotency_key_in_flight'];
    expect([...documented].sort()).toEqual(ErrorCode.options.filter((c) => !neverRaised.includes(c)).sort());
  });

  it('documents every route of the app, and only those', () => {
    const app = h.runtime.app.routes.filter((r) => r.method !== 'ALL').map((r) => ({ method: r.method.toLowerCase(), path: r.path }));
    const documented = operations().map((o) => ({ method: o.method, path: o.path }));
    // a route's `:param` and a document path's `{param}` match any one segment
    const pattern = (path: string) => new RegExp(`^${path.replace(/:[^/]+|\{[^}]+\}/g, '[^/]+')}$`);
    const covers = (route: { method: string; path: string }, op: { method: string; path: string }) =>
      route.method === op.method && (pattern(route.path).test(op.path) || pattern(op.path).test(route.path));
    expect(app.filter((r) => !documented.some((d) => covers(r, d))), 'routes the document lacks').toEqual([]);
    expect(documented.filter((d) => !app.some((r) => covers(r, d))), 'documented operations the app lacks').toEqual([]);
  });

  it('is served once built, and the docs page loads its scripts from the engine itself', async () => {
    const again = await h.request('GET', '/openapi.json');
    expect(await again.json()).toEqual(doc);
    const page = await h.request('GET', '/docs');
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const sources = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
    expect(sources.length).toBe(3);
    for (const src of sources) {
      expect(src).toMatch(/^\/docs\//);
      const asset = await h.request('GET', src);
      expect(asset.status, src).toBe(200);
      expect((await asset.text()).length, src).toBeGreaterThan(50);
    }
    expect(await (await h.request('GET', '/docs/start.js')).text()).toContain("url: '/openapi.json'");
  });
});
