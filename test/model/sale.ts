import { setTimeout as sleep } from 'node:timers/promises';
import { parseHold, parseOrder } from '../../src/engine/records.js';
import { createRedis, type RedisClient } from '../../src/redis/client.js';
import { commands } from '../../src/redis/commands.js';
import { Keys, type ProductKeys } from '../../src/redis/keys.js';
import { decode } from '../../src/redis/replies.js';
import { startRedisServer, type RedisServer } from '../../src/tools/redis-server.js';
import { uniq } from '../support/harness.js';
import { CURRENCY, SaleModel, type HoldRequest, type PaymentKind, type SaleParams, type Snapshot } from './model.js';

/**
 * Lifetimes of holds and orders: one no run outlives, one that has passed by the time the step that set
 * it ends (1 ms, then the step waits for Redis's clock), and a short one for a step that does something
 * before the deadline and then waits for it.
 */
export const LIFETIME_MS = { long: 600_000, lapsed: 1, brief: 100 };

/** Connection events a Lab keeps for a failure's message. */
const EVENTS_KEPT = 12;

/**
 * A private redis-server in SPEC's `fsync` mode (AOF, `appendfsync always`: every acknowledged write is
 * on disk), so it can be killed and restarted from its AOF, and the engine's hot-path client to it.
 */
export class Lab {
  /** the client's last connection events, oldest first, for the message of a failure that is not the model's */
  private readonly events: string[] = [];

  private constructor(
    readonly server: RedisServer,
    readonly redis: RedisClient,
    readonly keys: Keys,
  ) {
    for (const event of ['connect', 'ready', 'close', 'reconnecting', 'end', 'error']) {
      redis.on(event, (detail: unknown) => {
        this.events.push(`${new Date().toISOString().slice(11)} ${event}${detail === undefined ? '' : ` ${String(detail)}`}`);
        if (this.events.length > EVENTS_KEPT) this.events.shift();
      });
    }
  }

  static async start(): Promise<Lab> {
    const server = await startRedisServer({ extraArgs: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    const redis = createRedis({ url: server.url, commandTimeoutMs: 5_000, name: 'model' });
    await redis.connect();
    return new Lab(server, redis, new Keys(uniq('m')));
  }

  /** The client's last connection events and its status now, one line. */
  connectionHistory(): string {
    return `client status ${this.redis.status}; last events: ${this.events.join(' | ')}`;
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await this.server.stop();
  }

  /** SIGKILL, as a crash would, a restart from the AOF, and the same client back once it has reconnected by itself. */
  async crash(): Promise<void> {
    await this.server.kill();
    await this.server.start();
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await this.redis.ping();
        return;
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`the client did not reconnect after the restart: ${String(err)}`);
        await sleep(20);
      }
    }
  }
}

/** One product of the engine, driven through its scripts (commands + decode, as the engine calls them). */
export class Sale {
  private constructor(
    private readonly lab: Lab,
    readonly k: ProductKeys,
  ) {}

  static async open(lab: Lab, p: SaleParams): Promise<Sale> {
    const sale = new Sale(lab, lab.keys.product(uniq('p')));
    const loaded = decode.upsertProduct(
      await commands.upsertProduct(lab.redis, sale.k, 'Thing', p.price, CURRENCY, p.total, '', '', p.limit ?? '', 0, 0, 0),
    );
    if (!loaded.ok) throw new Error(`product not loaded: ${JSON.stringify(loaded)}`);
    return sale;
  }

  private get redis() {
    return this.lab.redis;
  }

  /** Redis's clock in ms: the scripts' clock. */
  async now(): Promise<number> {
    const [sec, usec] = await this.redis.time();
    return Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  }

  /** Waits until Redis's clock has reached `ms`: a deadline there has passed for every later script. */
  async waitPast(ms: number): Promise<void> {
    for (let now = await this.now(); now < ms; now = await this.now()) await sleep(ms - now);
  }

  async placeHolds(requests: readonly HoldRequest[], ttlMs: number) {
    const batch = requests.map((r) => ({ userId: r.user, qty: r.qty, idempotencyKey: r.key }));
    const [placed] = decode.createHolds(await commands.createHolds(this.redis, [{ keys: this.k, requests: batch }], ttlMs, Date.now()), [batch.length]);
    return placed!;
  }

  async release(seq: number, user: string) {
    return decode.releaseHold(await commands.releaseHold(this.redis, this.k, String(seq), user));
  }

  async createOrder(seq: number, user: string, paymentTtlMs: number) {
    return decode.createOrder(await commands.createOrder(this.redis, this.k, String(seq), user, paymentTtlMs));
  }

  async pay(id: string, seq: number, kind: PaymentKind, amount: number) {
    const fingerprint = SaleModel.fingerprint({ seq, kind, amount });
    const payload = JSON.stringify({ event_id: id, type: `payment.${kind}`, hold: seq, amount_minor: amount, currency: CURRENCY });
    return decode.applyPayment(
      await commands.applyPayment(this.redis, this.k, String(seq), { eventId: id, kind, amount, currency: CURRENCY, fingerprint, payload }),
    );
  }

  /** What the expiry jobs and the periodic sweep run. */
  async sweep() {
    const holds = decode.expired(await commands.expireHolds(this.redis, [this.k], 1000));
    const orders = decode.expired(await commands.expireOrders(this.redis, this.k, 1000));
    return { holds, orders };
  }

  crash(): Promise<void> {
    return this.lab.crash();
  }

  /** The product's state in Redis, read in one round trip. */
  async snapshot(): Promise<Snapshot> {
    const k = this.k;
    const read = await this.redis
      .multi()
      .hmget(k.product, 'total', 'available', 'held', 'pending', 'sold')
      .hgetall(k.holds)
      .hgetall(k.orders)
      .hgetall(k.used)
      .hgetall(k.events)
      .hgetall(k.deferred)
      .smembers(k.outbox)
      .smembers(k.eventOutbox)
      .exec();
    const [counters, holds, orders, used, events, deferred, outbox, eventOutbox] = read!.map(([err, value]) => {
      if (err) throw err;
      return value;
    }) as [(string | null)[], Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>, Record<string, string>, string[], string[]];
    const [total, available, held, pending, sold] = counters.map(Number) as [number, number, number, number, number];
    const map = <T, U>(o: Record<string, T>, f: (v: T) => U) => Object.fromEntries(Object.entries(o).map(([key, v]) => [key, f(v)]));
    return {
      counters: { total, available, held, pending, sold },
      holds: map(holds, (rec) => {
        const h = parseHold(rec);
        return { status: h.status, user: h.userId, qty: h.qty };
      }),
      orders: map(orders, (rec) => {
        const o = parseOrder(rec);
        return { status: o.status, user: o.user, qty: o.qty, total: o.total };
      }),
      used: map(used, Number),
      events: map(events, (rec) => (JSON.parse(rec) as { result: Snapshot['events'][string] }).result),
      deferred: map(deferred, (rec) => (JSON.parse(rec) as { event_id: string }).event_id),
      outbox: { orders: outbox.sort(), events: eventOutbox.sort() },
    };
  }
}
