import calculateSlot from 'cluster-key-slot';
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { HoldBatches, type ProductRequests } from '../../src/engine/hold-batches.js';
import { commands } from '../../src/redis/commands.js';
import { SOLD_OUT } from '../../src/redis/replies.js';
import { Keys } from '../../src/redis/keys.js';
import { readScripts } from '../../src/redis/scripts.js';

/**
 * Redis Cluster readiness: every key one script touches must hash to one slot. A stand-in client
 * records the KEYS each bound command would send (the scripts' declared key counts tell which
 * arguments are keys).
 */
const numberOfKeys = new Map(readScripts().map((s) => [s.name, s.numberOfKeys]));
const sent: { script: string; keys: string[] }[] = [];
const recorder = new Proxy({}, {
  get: (_, script: string) => (...args: (string | number)[]) => {
    // (a script whose number of keys varies is sent that number first)
    const n = numberOfKeys.get(script) ?? Number(args.shift());
    sent.push({ script, keys: args.slice(0, n).map(String) });
    return Promise.resolve([]);
  },
}) as unknown as Redis;

/** The keys per product of the scripts whose calls span products. */
const KEYS_PER_PRODUCT: Record<string, number> = { createHolds: 10, expireHolds: 11 };

describe('hash tags', () => {
  it.each(['plain', 'with-dash_and_underscore', 'X'.repeat(64)])('every script call for product %s stays in one slot', async (productId) => {
    sent.length = 0;
    const k = new Keys('fs').product(productId);
    await Promise.all([
      commands.upsertProduct(recorder, k, 'n', 1, 'EUR', 1, '', '', '', 0, 0, 0),
      commands.createHolds(recorder, [{ keys: k, requests: [{ userId: 'user', qty: 1, idempotencyKey: 'key' }] }], 1000, Date.now()),
      commands.releaseHold(recorder, k, '1', 'user'),
      commands.expireHolds(recorder, [k], 10),
      commands.createOrder(recorder, k, '1', 'user', 1000),
      commands.applyPayment(recorder, k, '1', { eventId: 'e', kind: 'succeeded', amount: 1, currency: 'EUR', fingerprint: 'f', payload: '{}' }),
      commands.expireOrders(recorder, k, 10),
      commands.markOrderPersisted(recorder, k, '1', '{}'),
      commands.markEventPersisted(recorder, k, 'e', '{}'),
      commands.auditProduct(recorder, k, false),
      commands.collectEnded(recorder, k, 1000, 10),
      commands.joinQueue(recorder, k, 'user', 0.5),
      commands.readTicket(recorder, k, 'user'),
      commands.admitTickets(recorder, k, 1000, 10),
      commands.drawRaffle(recorder, k, 1000, 'seed', ['user', 'other']),
      commands.setHoldEvents(recorder, k, true),
      commands.markProgress(recorder, k, 0),
    ]);
    expect(new Set(sent.map((s) => s.script))).toEqual(new Set(numberOfKeys.keys()));
    for (const { script, keys } of sent) {
      expect(keys, script).toHaveLength(numberOfKeys.get(script) ?? KEYS_PER_PRODUCT[script]!);
      expect(new Set(keys.map((key) => calculateSlot(key))).size, script).toBe(1);
      expect(keys.every((key) => key.startsWith(`fs:{p:${productId}}:`)), script).toBe(true);
    }
  });
});

describe('hold calls on a Cluster', () => {
  it('join the requests of products that share a slot, and only those, each call within its slot', async () => {
    const keys = new Keys('fs');
    // two products whose keys share a slot, and one elsewhere
    const first = 'p0';
    const sameSlot = Array.from({ length: 100_000 }, (_, i) => `p${i + 1}`).find((id) => keys.productSlot(id) === keys.productSlot(first))!;
    const other = 'q0';
    expect(keys.productSlot(other)).not.toBe(keys.productSlot(first));
    sent.length = 0;
    const calls: string[][] = [];
    const batches = new HoldBatches(async (products: readonly ProductRequests[]) => {
      calls.push(products.map((p) => p.productId));
      await commands.createHolds(recorder, products.map((p) => ({ keys: keys.product(p.productId), requests: p.requests })), 1000, Date.now());
      return products.map((p) => p.requests.map(() => SOLD_OUT));
    }, (id) => keys.productSlot(id));
    await Promise.all([first, other, sameSlot, first].map((id, i) => batches.place(id, `u${i}`, 1, '')));
    expect(calls.map((c) => [...c].sort())).toEqual(expect.arrayContaining([[first, sameSlot].sort(), [other]]));
    expect(calls).toHaveLength(2);
    for (const { keys: sentKeys } of sent) expect(new Set(sentKeys.map((key) => calculateSlot(key))).size).toBe(1);
    expect(sent.map((s) => s.keys.length).sort()).toEqual([10, 20]);
  });
});
