import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { Hold, Order, Problem } from '../../src/contract.js';
import { parseId } from '../../src/redis/keys.js';
import { startRedisPair, type RedisPair } from '../../src/tools/redis-replicas.js';
import { answer } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { startHarness, type Harness } from '../support/harness.js';

/** REDIS_REPLICA_ACKS=1: a write is answered once a replica has it, and refused (retryably) when none confirms. */

let pair: RedisPair;
let h: Harness;
test.beforeAll(async () => {
  pair = await startRedisPair();
  h = await startHarness({ REDIS_URL: pair.master.url, REDIS_REPLICA_ACKS: '1', REDIS_REPLICA_ACK_TIMEOUT_MS: '200' }, { inProcess: true });
});
test.afterAll(async () => {
  await pair.replica.start();
  await h.close();
  await pair.stop();
});

const hold = (pid: string, key: string) =>
  h.request('POST', '/api/holds', { token: h.token('buyer'), body: { product_id: pid, qty: 1 }, headers: { 'idempotency-key': key } });
const order = (holdId: string) => h.request('POST', '/api/orders', { token: h.token('buyer'), body: { hold_id: holdId } });

describe('REDIS_REPLICA_ACKS=1', () => {
  it('answers a write once the replica has it', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const placed = await answer(hold(pid, 'first'), Hold);
    expect(placed.status).toBe(201);
    const replica = new Redis(pair.replica.url);
    try {
      const seq = parseId('h', placed.body.id)!.seq;
      expect(await replica.hexists(h.runtime.engine.ctx.keys.product(pid).holds, seq)).toBe(1);
    } finally {
      replica.disconnect();
    }
  });

  it('answers 503 replication_unconfirmed while no replica confirms; retries with the same key get the same hold and order', async () => {
    const pid = await h.createProduct({ stock: 10 });
    const before = await answer(hold(pid, 'before'), Hold);

    await pair.replica.kill();
    const refused = await h.request('POST', '/api/holds', { token: h.token('buyer'), body: { product_id: pid, qty: 1 }, headers: { 'idempotency-key': 'during' } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect((await answer(refused, Problem)).body.code).toBe('replication_unconfirmed');
    const orderRefused = await answer(order(before.body.id), Problem);
    expect([orderRefused.status, orderRefused.body.code]).toEqual([503, 'replication_unconfirmed']);

    await pair.replica.start();
    await pair.online();
    // the refused hold was placed on the master: its retry replays it rather than holding a second unit
    const retried = await hold(pid, 'during');
    expect(retried.headers.get('idempotent-replayed')).toBe('true');
    expect((await answer(retried, Hold)).status).toBe(201);
    const retriedOrder = await answer(order(before.body.id), Order);
    expect([retriedOrder.status, retriedOrder.body.hold_id]).toEqual([200, before.body.id]);
    expect(await h.stock(pid)).toMatchObject({ held: 1, pending_payment: 1 });
  });
});
