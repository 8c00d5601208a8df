import { describe, expect, it } from 'vitest';
import { nodeCrypto } from '../../loadtests/lib/node-crypto.js';
import { BACKOFF, EngineApi } from '../../loadtests/steps/api.js';
import type { HttpResponse, Outcome } from '../../loadtests/steps/types.js';

/** The API client of the scenario steps against scripted answers: how it waits out 429 and 503. */
function client(answers: HttpResponse[]) {
  const outcomes: Outcome[] = [];
  const waits: number[] = [];
  let sent = 0;
  const api = new EngineApi({
    baseUrl: 'http://engine.test',
    http: async () => answers[Math.min(sent++, answers.length - 1)]!,
    crypto: nodeCrypto,
    credentials: { adminToken: 'a', jwtSecret: 'j', webhookSecret: 'w' },
    sleep: async (ms) => void waits.push(ms),
    record: (o) => outcomes.push(o),
  });
  return { api, outcomes, waits, sent: () => sent };
}

const problem = (status: number, code: string, retryAfter?: string): HttpResponse => ({
  status,
  headers: { 'content-type': 'application/problem+json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) },
  body: JSON.stringify({ code }),
  ms: 1,
});
const created: HttpResponse = { status: 201, headers: { 'content-type': 'application/json' }, body: '{"id":"h_1_p"}', ms: 1 };

describe('the steps API client backs off', () => {
  it('waits what Retry-After says (plus jitter) after a 429, asks again, and records both answers as expected', async () => {
    const c = client([problem(429, 'rate_limited', '1'), created]);
    const res = await c.api.placeHold('token', 'p', 1);
    expect(res.status).toBe(201);
    expect(c.waits).toHaveLength(1);
    expect(c.waits[0]).toBeGreaterThanOrEqual(1000);
    expect(c.waits[0]).toBeLessThanOrEqual(1000 * (1 + BACKOFF.jitter));
    expect(c.outcomes.map((o) => [o.status, o.code, o.expected])).toEqual([
      [429, 'rate_limited', true],
      [201, undefined, true],
    ]);
  });

  it('waits longer after each further refusal, up to its cap, and a 429 it gives up on is unexpected', async () => {
    const c = client([problem(429, 'rate_limited', '1')]);
    const res = await c.api.placeHold('token', 'p', 1);
    expect(res.status).toBe(429);
    expect(c.sent()).toBe(BACKOFF.retries + 1);
    c.waits.forEach((w, i) => {
      const base = Math.min(BACKOFF.maxMs, 1000 * 2 ** i);
      expect(w).toBeGreaterThanOrEqual(base);
      expect(w).toBeLessThanOrEqual(base * (1 + BACKOFF.jitter));
    });
    expect(c.outcomes.map((o) => o.expected)).toEqual([...Array<boolean>(BACKOFF.retries).fill(true), false]);
    expect(c.outcomes.at(-1)?.detail).toContain(`gave up after ${BACKOFF.retries} retries`);
  });

  it('retries a 503 as well, which still counts as unexpected', async () => {
    const c = client([problem(503, 'unavailable', '1'), created]);
    const res = await c.api.placeHold('token', 'p', 1);
    expect(res.status).toBe(201);
    expect(c.outcomes.map((o) => [o.status, o.expected])).toEqual([
      [503, false],
      [201, true],
    ]);
  });

  it('takes other answers as final', async () => {
    const c = client([problem(409, 'insufficient_stock')]);
    expect((await c.api.placeHold('token', 'p', 1)).code).toBe('insufficient_stock');
    expect(c.waits).toEqual([]);
  });
});
