import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../support/harness.js';
import { startPrivateRedis, type PrivateRedis } from '../support/redis-server.js';

/**
 * Group commit of hold requests (src/engine/hold-batches.ts), watched from Redis's side: a private
 * server, so that pausing it and watching its commands touches no other test.
 */
let redis: PrivateRedis;
let h: Harness;
let admin: Redis;
beforeAll(async () => {
  redis = await startPrivateRedis();
  h = await startHarness({ REDIS_URL: redis.url });
  admin = new Redis(redis.url);
});
afterAll(async () => {
  admin?.disconnect();
  await h?.close();
  await redis.stop();
});

const hold = (pid: string, user: string) => h.request('POST', '/api/holds', { token: h.token(user), body: { product_id: pid, qty: 1 } });
const nextTurn = () => new Promise((r) => setTimeout(r, 5));

describe('group commit of holds', () => {
  it('sends the requests that arrive while a call is in Redis together in the next call, in arrival order', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const holdsKey = h.runtime.engine.ctx.keys.product(pid).holds;
    // requests per createHolds call: EVALSHA sha 8 <8 keys> ttl bucket day, then user, qty, key per request
    // (EVAL with the script's text instead of its sha the first time)
    const calls: number[] = [];
    const monitor = await new Redis(redis.url).monitor();
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (/^eval(sha)?$/i.test(args[0] ?? '') && args.includes(holdsKey)) calls.push((args.length - 14) / 3);
    });

    // scripts wait while Redis is paused, so the first call stays in Redis for a while
    await admin.call('CLIENT', 'PAUSE', '400', 'WRITE');
    const first = hold(pid, 'u0');
    await new Promise((r) => setTimeout(r, 100));
    const later: Promise<Response>[] = [];
    for (const user of ['u1', 'u2', 'u3']) {
      later.push(hold(pid, user));
      await nextTurn();
    }
    const responses = await Promise.all([first, ...later]);
    expect(responses.map((r) => r.status)).toEqual([201, 201, 201, 201]);
    const seqs = await Promise.all(responses.map(async (r) => Number(((await r.json()) as { id: string }).id.split('_')[1])));
    // arrival order is placing order
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    await expect.poll(() => calls).toEqual([1, 3]);
    monitor.disconnect();
    expect(await h.stock(pid)).toMatchObject({ available: 6, held: 4 });
  });

  it('answers the waiting requests when the call before them fails', async () => {
    const pid = await h.createProduct({ stock: 10 });
    await admin.call('CLIENT', 'PAUSE', '400', 'WRITE');
    const first = hold(pid, 'v0');
    await new Promise((r) => setTimeout(r, 100));
    const waiting = hold(pid, 'v1');
    await nextTurn();
    // the engine's connection dies with its call in Redis: that call fails, the next one is sent after it
    const engineClients = String(await admin.call('CLIENT', 'LIST'))
      .split('\n')
      .filter((line) => / cmd=evalsha /.test(line))
      .map((line) => /^id=(\d+) /.exec(line)![1]!);
    expect(engineClients.length).toBeGreaterThan(0);
    for (const id of engineClients) await admin.call('CLIENT', 'KILL', 'ID', id);
    const statuses = (await Promise.all([first, waiting])).map((r) => r.status);
    // the failed call's request is answered 503 or, resent by the client after it reconnects, 201
    expect([201, 503]).toContain(statuses[0]);
    expect(statuses[1]).toBe(201);
    const placed = statuses.filter((s) => s === 201).length;
    expect(await h.stock(pid)).toMatchObject({ available: 10 - placed, held: placed });
  });
});
