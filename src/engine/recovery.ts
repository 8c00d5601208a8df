import { Cluster, type ChainableCommander, type Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { ProductRecovery, RecoveryReport } from '../contract.js';
import * as orderRows from '../db/orders.js';
import * as productRows from '../db/products.js';
import type { ProductRow } from '../db/products.js';
import { bounded, type Db } from '../db/sql.js';
import { AppError } from '../errors.js';
import type { RedisClient } from '../redis/client.js';
import { formatId, parseId, type ProductKeys, type RecordRef } from '../redis/keys.js';
import type { EngineContext } from './context.js';
import type { PaymentInbox } from './payment-inbox.js';
import type { Persistence } from './persistence.js';
import type { ExecResults, Products } from './products.js';

/** Attempts to rebuild a product before giving up on one that keeps taking writes meanwhile. */
const REBUILD_ROUNDS = 5;
/** A rebuild that gave up: the product is busy, or has writes an operator must look at (503, retry later). */
class RebuildGaveUp extends AppError {
  constructor(detail: string) {
    super('unavailable', detail, {}, { 'retry-after': '5' });
  }
}
/** A rebuild's round found a write after its drain (or lost its WATCH) and wrote nothing: the next round drains again. */
const WRITTEN_MEANWHILE = Symbol('written meanwhile');

/** What the request path asks before it serves a product (Recovery). */
export type ProductGate = Pick<Recovery, 'checked' | 'ensure' | 'lostRecord' | 'restoreEnded'>;

/**
 * Redis behind Postgres is detected, never trusted (docs/decisions/015). Before a process serves a
 * product (after its start and after every lost Redis connection) it compares the product's Redis record
 * with Postgres: no record, a seq below an id Postgres has seen, or a progress mark below the one
 * Postgres recorded means Redis lost writes, and the product is rebuilt from Postgres before anything
 * else touches it: counters from committed orders, pending orders recreated with their deadlines, the
 * seq beyond every id handed out. Holds that lived only in Redis are gone and their stock is available
 * again. A missing generation marker (a Redis that lost everything, checked by the worker) recovers
 * every product, the payments inbox and BullMQ's repeatable jobs.
 */
export class Recovery {
  /** products this process has checked since its Redis connection was last (re)established */
  private readonly checkedIds = new Set<string>();
  private readonly underway = new Map<string, { force: boolean; check: Promise<ProductRecovery | null> }>();
  /** the rebuild whose turn it is on the watch connection */
  private watchTurn: Promise<unknown> = Promise.resolve();
  /** how often the watch connection (any of its nodes' on a Cluster) has closed */
  private readonly watchCloses: () => number;
  /** registers BullMQ's repeatable jobs again (set by the worker) */
  schedulers: () => Promise<void> = () => Promise.resolve();

  constructor(
    private readonly ctx: EngineContext,
    private readonly products: Products,
    private readonly persistence: Persistence,
    private readonly inbox: PaymentInbox,
  ) {
    // whatever Redis answers after a lost connection may be another (older) copy of the data
    ctx.redis.on('close', () => this.checkedIds.clear());
    this.watchCloses = closesOf(ctx.watchRedis);
  }

  /** Whether the product was checked since the connection came up: the request path's one question. */
  checked(id: string): boolean {
    return this.checkedIds.has(id);
  }

  /**
   * A product this process has just created: its record was written from Postgres's new row, so it is
   * not behind (a record of an older Redis cannot exist for an id Postgres did not have).
   */
  fresh(id: string): void {
    this.checkedIds.add(id);
  }

  /**
   * Checks the product now (rebuilding it if Redis is behind); false when Postgres does not know it.
   * The request asking waits at most Postgres's deadline; the check goes on, for the next one to find.
   */
  async ensure(id: string): Promise<boolean> {
    this.checkedIds.delete(id);
    return (await bounded(this.product(id, false, this.ctx.logger))) !== null;
  }

  /**
   * After a script found no record of a hold: if the product's whole record is gone too (Redis lost its
   * data while this process kept its connection), checks and rebuilds it. True when the caller should try again.
   */
  async lostRecord(id: string): Promise<boolean> {
    if ((await this.ctx.redis.exists(this.ctx.keys.product(id).product)) === 1) return false;
    return this.ensure(id);
  }

  /**
   * After a script found no record of a hold while its product has one: an order Postgres has for the
   * hold that ended unpaid (a rebuild keeps pending orders only; retention collects the others) is
   * written back as it ended, kept for another retention period, so that a late success can still
   * re-reserve its stock or ask for a refund. True when Postgres has such an order.
   */
  async restoreEnded(ref: RecordRef): Promise<boolean> {
    const order = await bounded(orderRows.find(this.ctx.sql, formatId('o', ref)));
    if (order?.status !== 'expired' && order?.status !== 'payment_failed') return false;
    const k = this.ctx.keys.product(ref.productId);
    const { hold, order: record } = redisRecords(order);
    // (records another process wrote back meanwhile, perhaps already moved on by an event, are kept)
    await this.ctx.redis.multi().hsetnx(k.holds, ref.seq, hold).hsetnx(k.orders, ref.seq, record).rpush(k.ended, `o${ref.seq}:${Date.now()}`).exec();
    return true;
  }

  /**
   * Checks every product (at start), rebuilding those Redis is behind on, or all of them with `force`.
   * For a request (`request`), each product's check is waited for at most Postgres's deadline (the
   * check goes on), never a hang; else as long as it takes.
   */
  async checkAll({ force = false, request = false } = {}, log: Logger = this.ctx.logger): Promise<ProductRecovery[]> {
    const products: ProductRecovery[] = [];
    for (const id of await bounded(productRows.ids(this.ctx.sql))) {
      const check = this.product(id, force, log);
      // one that could not be rebuilt is reported and stays unchecked (its requests try again); the rest go on
      const done = await (request ? bounded(check) : check).catch((err: unknown) => {
        if (!(err instanceof RebuildGaveUp)) throw err;
        log.error({ productId: id, reason: err.detail }, 'product not rebuilt');
        return { product_id: id, rebuilt: false, reason: err.detail, pending_orders: 0 };
      });
      if (done) products.push(done);
    }
    return products;
  }

  /** Every product checked (see checkAll), then the payments inbox and BullMQ's repeatable jobs. */
  async run({ force = false, request = false } = {}, log: Logger = this.ctx.logger): Promise<RecoveryReport> {
    const started = Date.now();
    const products = await this.checkAll({ force, request }, log);
    await this.schedulers();
    const payments = await this.inbox.recover({ minAgeMs: 0 }, log);
    await this.ctx.redis.set(this.ctx.keys.generation, String(Date.now()));
    return { products, payments, took_ms: Date.now() - started };
  }

  /** Worker: a Redis without the generation marker lost everything (or is new): everything is recovered. */
  async checkGeneration(): Promise<RecoveryReport | null> {
    if ((await this.ctx.redis.exists(this.ctx.keys.generation)) === 1) return null;
    const report = await this.run();
    this.ctx.logger.warn({ rebuilt: report.products.filter((p) => p.rebuilt).length, payments: report.payments, tookMs: report.took_ms },
      'Redis had no generation marker: recovered from Postgres');
    return report;
  }

  /**
   * One check of a product at a time: a caller that finds one under way takes its result (its lines are
   * the first caller's), save a forced one that finds an unforced one, which may rebuild nothing: it
   * runs next.
   */
  private product(id: string, force: boolean, log: Logger): Promise<ProductRecovery | null> {
    const before = this.underway.get(id);
    if (before && (before.force || !force)) return before.check;
    const entry = {
      force,
      check: (before?.check.catch(() => null) ?? Promise.resolve(null))
        .then(() => this.checkProduct(id, force, log))
        .finally(() => {
          if (this.underway.get(id) === entry) this.underway.delete(id);
        }),
    };
    this.underway.set(id, entry);
    return entry.check;
  }

  private async checkProduct(id: string, force: boolean, log: Logger): Promise<ProductRecovery | null> {
    const row = await this.products.row(id);
    if (!row) return null;
    const reason = force ? 'asked for' : await this.behind(this.ctx.sql, row);
    const result = reason === null ? { product_id: id, rebuilt: false, reason: null, pending_orders: 0 } : await this.rebuild(id, reason, force, log);
    if (result) this.checkedIds.add(id);
    return result;
  }

  /** Why the product's Redis record is older than Postgres, or null when it is not. */
  private async behind(db: Db, row: ProductRow): Promise<string | null> {
    const [[total, seqField, markField], committed] = await Promise.all([
      this.ctx.redis.hmget(this.ctx.keys.product(row.id).product, 'total', 'seq', 'mark'),
      bounded(orderRows.committedUnits(db, row.id)),
    ]);
    if (total === null) return 'no record in Redis';
    const seen = Math.max(committed.maxSeq, Number(row.seq_high_water));
    if (Number(seqField) < seen) return `seq ${seqField} in Redis is below ${seen}, seen by Postgres`;
    if (Number(markField ?? 0) < Number(row.redis_mark)) return `progress mark ${markField ?? 0} in Redis is below ${row.redis_mark}, recorded in Postgres`;
    return null;
  }

  /**
   * What the old record has that Postgres lacks goes there first (statuses only move forward; an id
   * Postgres has for another order is kept aside as a conflict), and the product is then rebuilt from
   * Postgres. A write acknowledged after that drain would be deleted with the old keys: the rebuild reads
   * Postgres and runs its EXEC only while the outboxes are empty and watched (`whileWatched`); else the
   * round starts over.
   */
  private async rebuild(id: string, reason: string, force: boolean, log: Logger): Promise<ProductRecovery | null> {
    for (let round = 0; round < REBUILD_ROUNDS; round++) {
      if (round > 0 || reason !== 'no record in Redis') await this.persistence.drain(id);
      const result = await this.rebuildFromPostgres(id, reason, force, log);
      if (result !== WRITTEN_MEANWHILE) return result;
    }
    throw new RebuildGaveUp(
      `product ${id} took writes during each of ${REBUILD_ROUNDS} attempts to rebuild it, or has writes Postgres refuses (the drain logs those): it was not rebuilt, so none of them is lost`,
    );
  }

  private async rebuildFromPostgres(id: string, reason: string, force: boolean, log: Logger): Promise<ProductRecovery | null | typeof WRITTEN_MEANWHILE> {
    const k = this.ctx.keys.product(id);
    const result = await this.whileWatched(k, (exec) => this.ctx.sql.begin(async (tx) => {
      // the row lock makes concurrent checks take turns: the second finds the product rebuilt
      const row = await productRows.lock(tx, id);
      if (!row) return null;
      if (!force && (await this.behind(tx, row)) === null) return { product_id: id, rebuilt: false, reason: null, pending_orders: 0 };
      const [orders, used, events] = await Promise.all([orderRows.pending(tx, id), orderRows.unitsByUser(tx, id), this.inbox.openOf(tx, id)]);
      const write = (t: ChainableCommander) => {
        this.writeOrders(t, id, orders, used);
        // acknowledged payments Redis may not have known: applied before anything can expire their orders
        this.inbox.queueApplies(t, events);
      };
      const replies = await this.products.rebuild(tx, row, write, exec);
      if (!replies) return WRITTEN_MEANWHILE;
      this.inbox.appliedWith(events, replies.slice(replies.length - events.length), log);
      return { product_id: id, rebuilt: true, reason, pending_orders: orders.length, firstDue: orders[0]?.payment_due_at };
    }));
    if (result === WRITTEN_MEANWHILE || !result?.rebuilt) return result;
    const { firstDue, ...done } = result;
    if (firstDue) this.ctx.jobs.expireAt('expire-orders', id, firstDue.getTime());
    log.warn({ productId: id, reason, pendingOrders: done.pending_orders }, 'product rebuilt from Postgres: Redis was behind');
    return done;
  }

  /**
   * Runs a rebuild while the product's outboxes are WATCHed on the watch connection, where rebuilds take
   * turns (another's EXEC or UNWATCH would clear this WATCH). The WATCH is set before the rebuild reads
   * Postgres: a change that reaches Postgres after that read has passed through the outboxes after the
   * WATCH (a drain takes a record out only once Postgres has it), so the EXEC does not run. `run` gets
   * the EXEC, which answers null when a write aborted it or the connection dropped meanwhile (a WATCH does
   * not survive a reconnect, and ioredis would send the EXEC on the new one). WRITTEN_MEANWHILE, without
   * calling `run`, when the outboxes are not empty.
   */
  private whileWatched<T>(k: ProductKeys, run: (exec: (tx: ChainableCommander) => Promise<ExecResults | null>) => Promise<T>): Promise<T | typeof WRITTEN_MEANWHILE> {
    const watch = this.ctx.watchRedis;
    const turn = this.watchTurn.then(async () => {
      const closes = this.watchCloses();
      try {
        await watch.watch(k.outbox, k.eventOutbox, k.notices);
        const left = await Promise.all([watch.scard(k.outbox), watch.scard(k.eventOutbox), watch.zcard(k.notices)]);
        if (left.some((n) => n > 0) || this.watchCloses() !== closes) return WRITTEN_MEANWHILE;
        return await run((tx) => (this.watchCloses() !== closes ? Promise.resolve(null) : tx.exec()));
      } finally {
        // (UNWATCH names no key: on a Cluster, every master's connection is told)
        const connections = watch instanceof Cluster ? watch.nodes('master') : [watch];
        await Promise.all(connections.map((c) => c.unwatch().catch(() => {})));
      }
    });
    this.watchTurn = turn.catch(() => {});
    return turn;
  }

  /** Queues the product's keys cleared and its pending orders (with their converted holds) written. */
  private writeOrders(t: ChainableCommander, id: string, orders: orderRows.OrderRow[], used: { user_id: string; units: string }[]): void {
    const k = this.ctx.keys.product(id);
    t.del(k.used, k.holds, k.holdQueue, k.orders, k.orderQueue, k.ended, k.events, k.deferred, k.outbox, k.eventOutbox, k.notices,
      ...k.holdIdempotency(Date.now()));
    if (used.length > 0) t.hset(k.used, ...used.flatMap((u) => [u.user_id, u.units]));
    if (orders.length === 0) return;
    const seqs = orders.map((o) => parseId('o', o.id)!.seq);
    const records = orders.map(redisRecords);
    t.hset(k.holds, ...seqs.flatMap((seq, i) => [seq, records[i]!.hold]));
    t.hset(k.orders, ...seqs.flatMap((seq, i) => [seq, records[i]!.order]));
    t.rpush(k.orderQueue, ...seqs);
  }
}

/** An order's Redis records, from its Postgres row: its converted hold (packed) and the order (JSON). */
function redisRecords(o: orderRows.OrderRow): { hold: string; order: string } {
  const [created, due, price] = [o.created_at.getTime(), o.payment_due_at.getTime(), Number(o.unit_price_minor)];
  return {
    hold: `c|${o.qty}|${created}|${created}|${price}|${o.user_id}`,
    order: JSON.stringify({
      status: o.status, qty: o.qty, unit_price: price, total: Number(o.total_minor), currency: o.currency.trim(),
      user: o.user_id, created, due, updated: created,
    }),
  };
}

/** Counts the closes of a client's connections (each node's, on a Cluster, including nodes added later). */
function closesOf(client: RedisClient): () => number {
  let closes = 0;
  const count = (r: Redis) => r.on('close', () => closes++);
  if (client instanceof Cluster) {
    client.nodes().forEach(count);
    client.on('+node', count);
  } else {
    count(client);
  }
  return () => closes;
}
