import type { ChainableCommander } from 'ioredis';
import { batchWrites, type RedisClient } from './client.js';
import { IDEMPOTENCY_BUCKET_MS, type ProductKeys } from './keys.js';
import type { RawReply } from './scripts.js';

type Arg = string | number;

export interface HoldRequest {
  userId: string;
  qty: number;
  /** "" = none */
  idempotencyKey: string;
}

/** A payment event as applyPayment takes it. */
export interface ScriptPayment {
  eventId: string;
  kind: string;
  amount: number;
  currency: string;
  fingerprint: string;
  payload: string;
}

const applyPaymentArgs = (k: ProductKeys, seq: string, e: ScriptPayment) =>
  [k.product, k.used, k.holds, k.orders, k.deferred, k.events, k.outbox, k.eventOutbox, k.ended, k.notices,
    seq, e.eventId, e.kind, e.amount, e.currency, e.fingerprint, e.payload] as const;

/**
 * Each Lua script with its KEYS in the order its header documents: the one place that binds a
 * product's keys to a script call. Replies are raw; `decode` (src/redis/replies.ts) types them.
 */
export const commands = {
  upsertProduct: (r: RedisClient, k: ProductKeys, ...args: Arg[]) => r.upsertProduct(k.product, ...args),

  /** upsertProduct queued on a transaction: a rebuild writes a product's record with its orders in one step */
  queueUpsertProduct: (t: ChainableCommander, k: ProductKeys, ...args: Arg[]) => t.upsertProduct(k.product, ...args),

  setHoldEvents: (r: RedisClient, k: ProductKeys, on: boolean) => r.setHoldEvents(k.product, on ? '1' : ''),

  markProgress: (r: RedisClient, k: ProductKeys, recordedMark: number) => r.markProgress(k.product, recordedMark),

  /**
   * Hold requests for one or more products, each product's placed in order, in one script call. The
   * products must share a Redis Cluster slot (any products on a standalone Redis).
   */
  createHolds(r: RedisClient, products: readonly { keys: ProductKeys; requests: readonly HoldRequest[] }[], ttlMs: number, nowMs: number): Promise<RawReply> {
    const keys: string[] = [];
    const args: Arg[] = [ttlMs, IDEMPOTENCY_BUCKET_MS, Math.floor(nowMs / IDEMPOTENCY_BUCKET_MS)];
    for (const { keys: k, requests } of products) {
      keys.push(k.product, k.used, k.holds, k.holdQueue, ...k.holdIdempotency(nowMs), k.tickets, k.notices);
      args.push(requests.length);
      for (const q of requests) args.push(q.userId, q.qty, q.idempotencyKey);
    }
    return r.createHolds(keys.length, ...keys, ...args);
  },

  // the other request-path scripts leave in one socket write per event-loop turn (batchWrites)
  releaseHold(r: RedisClient, k: ProductKeys, seq: string, userId: string) {
    batchWrites(r);
    return r.releaseHold(k.product, k.used, k.holds, k.orders, k.deferred, k.events, k.outbox, k.eventOutbox, k.ended, k.notices, seq, userId);
  },

  // the product jobs' scripts too: a job works on several products at once (forEachConcurrently)
  expireHolds(r: RedisClient, products: readonly ProductKeys[], batch: number) {
    batchWrites(r);
    const keys = products.flatMap((k) => [k.product, k.used, k.holds, k.holdQueue, k.ended, k.orders, k.deferred, k.events, k.outbox, k.eventOutbox, k.notices]);
    return r.expireHolds(keys.length, ...keys, batch);
  },

  createOrder(r: RedisClient, k: ProductKeys, seq: string, userId: string, paymentTtlMs: number) {
    batchWrites(r);
    return r.createOrder(k.product, k.used, k.holds, k.orders, k.orderQueue, k.deferred, k.events, k.outbox, k.eventOutbox, k.ended, k.notices, seq, userId, paymentTtlMs);
  },

  applyPayment(r: RedisClient, k: ProductKeys, seq: string, e: ScriptPayment) {
    batchWrites(r);
    return r.applyPayment(...applyPaymentArgs(k, seq, e));
  },

  /** applyPayment queued on a transaction: a rebuild applies the product's open inbox events with its writes */
  queueApplyPayment: (t: ChainableCommander, k: ProductKeys, seq: string, e: ScriptPayment) => t.applyPayment(...applyPaymentArgs(k, seq, e)),

  expireOrders(r: RedisClient, k: ProductKeys, batch: number) {
    batchWrites(r);
    return r.expireOrders(k.product, k.used, k.orders, k.orderQueue, k.ended, k.outbox, batch);
  },

  // (these two are also queued on pipelines: a drain marks a whole batch in one round trip)
  markOrderPersisted: (r: RedisClient | ChainableCommander, k: ProductKeys, seq: string, record: string) => r.markPersisted(k.orders, k.outbox, seq, record),

  markEventPersisted: (r: RedisClient | ChainableCommander, k: ProductKeys, eventId: string, record: string) => r.markPersisted(k.events, k.eventOutbox, eventId, record),

  auditProduct: (r: RedisClient, k: ProductKeys, repair: boolean) => r.auditProduct(k.product, k.holds, k.orders, repair ? 1 : 0),

  // waiting room and raffle
  joinQueue: (r: RedisClient, k: ProductKeys, userId: string, preQueueScore: number) =>
    r.joinQueue(k.product, k.tickets, k.preQueue, k.line, k.admitted, k.notices, userId, preQueueScore),

  readTicket: (r: RedisClient, k: ProductKeys, userId: string) => r.readTicket(k.product, k.tickets, k.preQueue, userId),

  admitTickets(r: RedisClient, k: ProductKeys, holdTtlMs: number, limit: number) {
    batchWrites(r);
    return r.admitTickets(k.product, k.tickets, k.preQueue, k.line, k.admitted, k.draw, k.used, k.holds, k.holdQueue, k.notices, holdTtlMs, limit);
  },

  drawRaffle: (r: RedisClient, k: ProductKeys, holdTtlMs: number, seed: string, order: readonly string[]) =>
    r.drawRaffle(k.product, k.tickets, k.draw, k.used, k.holds, k.holdQueue, k.notices, holdTtlMs, seed, ...order),

  collectEnded: (r: RedisClient, k: ProductKeys, retentionMs: number, batch: number) =>
    r.collectEnded(k.ended, k.holds, k.orders, k.outbox, k.events, k.eventOutbox, retentionMs, batch),
};
