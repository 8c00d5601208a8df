import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import type { RedisServer } from '../../src/tools/redis-server.js';
import { test } from '../support/fixtures.js';
import { Hold } from '../../src/contract.js';
import { body } from '../support/answers.js';
import { startHarness, type Harness } from '../support/harness.js';
import { monitorCommands } from '../support/redis-monitor.js';

/**
 * Group commit of hold requests (src/engine/hold-batches.ts), watched from Redis's side: a private
 * server, so that pausing it and watching its commands touches no other test.
 */
// (a long command timeout: these tests hold calls in Redis on purpose; no sweep: its writes share the
// engine's connection, and one held before a hold call would hold that call back too)
const ENGINE_ENV = { REDIS_COMMAND_TIMEOUT_MS: '10000', SWEEP_INTERVAL_MS: '3600000' };
test.override('engineEnv', ({ privateRedis }) => ({ ...ENGINE_ENV, REDIS_URL: privateRedis.url }));
let redis: RedisServer;
let h: Harness;
let admin: Redis;
test.beforeAll(({ privateRedis, harness }) => {
  redis = privateRedis;
  h = harness;
  admin = new Redis(redis.url);
});
test.afterAll(() => {
  admin?.disconnect();
});

const hold = (pid: string, user: string) => h.request('POST', '/api/holds', { token: h.token(user), body: { product_id: pid, qty: 1 } });
const nextTurn = () => new Promise((r) => setTimeout(r, 5));
/** How long a first request may take to reach Redis (a product's first hold checks Postgres first; CI runs files side by side). */
const HELD_WITHIN_MS = 5_000;

/**
 * Pauses Redis's writes for 10 s once `engine` has sent the product-job writes it still had pending
 * (expiry sets, sent up to 100 ms after the holds that made them): one sent during the pause would be
 * held on the engine's connection ahead of the hold call the test then makes, and hold that back too.
 */
async function pauseWrites(engine: Harness): Promise<void> {
  await engine.runtime.engine.ctx.jobs.flush();
  await admin.call('CLIENT', 'PAUSE', '10000', 'WRITE');
}

/** Ids of the engine's own Redis connections with a script call held by CLIENT PAUSE. */
async function engineCallsHeld(): Promise<string[]> {
  return String(await admin.call('CLIENT', 'LIST'))
    .split('\n')
    .filter((line) => / name=engine /.test(line) && / flags=\w*b/.test(line) && / cmd=eval(sha)? /.test(line))
    .map((line) => /^id=(\d+) /.exec(line)![1]!);
}

describe('group commit of holds', () => {
  it('sends the requests that arrive while a call is in Redis together in the next call, in arrival order', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const holdsKey = h.runtime.engine.ctx.keys.product(pid).holds;
    // requests per createHolds call on one product: EVALSHA sha 10 <10 keys> ttl bucket day n, then user,
    // qty, key per request (EVAL with the script's text instead of its sha the first time)
    const calls: number[] = [];
    const monitor = await monitorCommands(redis.url, (args) => {
      if (/^eval(sha)?$/i.test(args[0] ?? '') && args.includes(holdsKey)) calls.push((args.length - 17) / 3);
    });

    // scripts wait while Redis is paused: the first call stays in Redis until it is unpaused
    await pauseWrites(h);
    const first = hold(pid, 'u0');
    await expect.poll(engineCallsHeld, { timeout: HELD_WITHIN_MS }).toHaveLength(1);
    const later: Promise<Response>[] = [];
    for (const user of ['u1', 'u2', 'u3']) {
      later.push(hold(pid, user));
      await nextTurn();
    }
    await admin.call('CLIENT', 'UNPAUSE');
    const responses = await Promise.all([first, ...later]);
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const seqs = await Promise.all(responses.map(async (r) => Number((await body(r, Hold)).id.split('_')[1])));
    // arrival order is placing order
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    await expect.poll(() => calls).toEqual([1, 3]);
    monitor.close();
    expect(await h.stock(pid)).toMatchObject({ available: 6, held: 4 });
  });

  it('sends the requests for several products that arrive while a call is in Redis together in one call', async () => {
    const pids = await Promise.all(['a', 'b', 'c'].map(() => h.createProduct({ stock: 10 })));
    const byHoldsKey = new Map(pids.map((pid) => [h.runtime.engine.ctx.keys.product(pid).holds, pid]));
    // the products each hold call spans
    const calls: string[][] = [];
    const monitor = await monitorCommands(redis.url, (args) => {
      if (!/^eval(sha)?$/i.test(args[0] ?? '')) return;
      const spanned = args.flatMap((a) => (byHoldsKey.has(a) ? [byHoldsKey.get(a)!] : []));
      if (spanned.length > 0) calls.push(spanned.sort());
    });

    await pauseWrites(h);
    const first = hold(pids[0]!, 'w0');
    await expect.poll(engineCallsHeld, { timeout: HELD_WITHIN_MS }).toHaveLength(1);
    const later: Promise<Response>[] = [];
    for (const [i, pid] of [pids[1]!, pids[2]!, pids[0]!, pids[1]!].entries()) {
      later.push(hold(pid, `w${i + 1}`));
      await nextTurn();
    }
    await admin.call('CLIENT', 'UNPAUSE');
    expect((await Promise.all([first, ...later])).map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);
    await expect.poll(() => calls).toEqual([[pids[0]], [...pids].sort()]);
    monitor.close();
    const stocks = await Promise.all(pids.map((pid) => h.stock(pid)));
    expect(stocks.map((s) => s.held)).toEqual([2, 2, 1]);
  });

  it('answers the waiting requests when the call before them fails', async () => {
    // an engine of its own with a short command timeout: its held call fails by timing out
    const short = await startHarness({ ...ENGINE_ENV, REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '500' });
    try {
      const pid = await short.createProduct({ stock: 10 });
      const post = (user: string) => short.request('POST', '/api/holds', { token: short.token(user), body: { product_id: pid, qty: 1 } });
      await pauseWrites(short);
      const first = post('v0');
      await expect.poll(engineCallsHeld, { timeout: HELD_WITHIN_MS }).toHaveLength(1);
      const waiting = post('v1');
      await nextTurn();
      expect((await first).status).toBe(503);
      // the waiting request's call went to Redis after the failed one, not before: let Redis go on
      await admin.call('CLIENT', 'UNPAUSE');
      expect((await waiting).status).toBe(201);
      // (the timed-out call still ran once Redis went on: a 503 after a timeout does not say nothing
      // happened, and that hold expires like any other)
      expect(await short.stock(pid)).toMatchObject({ available: 8, held: 2 });
    } finally {
      await admin.call('CLIENT', 'UNPAUSE');
      await short.close();
    }
  });
});
