import { describe, expect, it } from 'vitest';
import { test } from '../support/fixtures.js';
import { type Harness } from '../support/harness.js';
import { Problem } from '../../src/contract.js';
import { body } from '../support/answers.js';

test.override('engineEnv', { RATE_LIMIT_PER_SECOND: '5', RATE_LIMIT_BURST: '10' });
let h: Harness;
test.beforeAll(({ harness }) => {
  h = harness;
});

describe('per-customer rate limit', () => {
  it('lets a burst through, then answers 429 rate_limited with Retry-After, without touching stock', async () => {
    const pid = await h.createProduct({ stock: 100 });
    const token = h.token('eager-bot');
    // sent together, so the bucket cannot refill between them however slow the machine is
    const answers = await Promise.all(Array.from({ length: 15 }, () => h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } })));
    const statuses = answers.map((res) => res.status);
    for (const res of answers) {
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toBe('1');
        expect(res.headers.get('content-type')).toBe('application/problem+json');
        expect((await body(res, Problem)).code).toBe('rate_limited');
      }
    }
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 429)).toHaveLength(5);
    expect(await h.stock(pid)).toMatchObject({ available: 90, held: 10 });
    // other customers are not affected
    expect((await h.request('POST', '/api/holds', { token: h.token('patient'), body: { product_id: pid, qty: 1 } })).status).toBe(201);
    // and the bucket refills at the configured rate
    await new Promise((r) => setTimeout(r, 450));
    expect((await h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } })).status).toBe(201);
  });
});
