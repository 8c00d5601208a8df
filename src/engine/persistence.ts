import type { ChainableCommander } from 'ioredis';
import * as orderConflicts from '../db/order-conflicts.js';
import * as orderRows from '../db/orders.js';
import type { OrderWrite } from '../db/orders.js';
import * as paymentEventRows from '../db/payment-events.js';
import { eventRow, type PaymentEventWrite } from '../db/payment-events.js';
import type { Db } from '../db/sql.js';
import { commands } from '../redis/commands.js';
import { isUnavailable } from '../errors.js';
import { formatId, parseId, type ProductKeys } from '../redis/keys.js';
import type { EngineContext } from './context.js';
import type { Changes } from '../redis/replies.js';
import { parseOrder, parsePaymentEvent } from './records.js';
import type { Outbound } from '../outbound/outbound.js';
import { batchWrites } from '../redis/client.js';
import type { Progress } from './progress.js';

/** Records written per statement, and statements per drain (the next drain takes the rest). */
const BATCH = 500;
const MAX_ROUNDS = 40;

/**
 * Postgres as the system of record. Every script that changes an order or a payment event also puts
 * it in the product's Redis outbox, in the same atomic step. A change asks for a drain job for its
 * product at the end of the current second (one job per product and second, however many changes);
 * the drain upserts the outbox in batches (status only moves forward, in SQL too) and takes each
 * record out only if it did not change meanwhile. The sweep asks for a drain wherever an outbox is not
 * empty, so a crash between any two steps, a Postgres outage or a killed worker loses nothing.
 * The orders' outbound events are written in the same transaction as the orders (see Outbound). A
 * drain that wrote anything then records the product's progress (Progress), so a Redis that comes
 * back without what was written is found older than Postgres.
 */
export class Persistence {
  constructor(
    private readonly ctx: EngineContext,
    private readonly outbound: Outbound,
    private readonly progress: Progress,
  ) {}

  /** Called with what a script changed: those states reach Postgres within about a second. */
  changed(productId: string, changes: Changes): void {
    if (changes.notices > 0 || Object.keys(changes.orders).length + Object.keys(changes.events).length > 0) this.ctx.jobs.persistSoon(productId);
  }

  /** Orders, payment events and notices of the product not yet known to be in Postgres. */
  async backlog(productId: string): Promise<number> {
    const k = this.ctx.keys.product(productId);
    batchWrites(this.ctx.redis);
    const counts = await Promise.all([this.ctx.redis.scard(k.outbox), this.ctx.redis.scard(k.eventOutbox), this.ctx.redis.zcard(k.notices)]);
    return counts[0] + counts[1] + counts[2];
  }

  /** Sweep: asks for a drain when the product's outboxes hold anything; returns how many records. */
  async scheduleBacklog(productId: string): Promise<number> {
    const backlog = await this.backlog(productId);
    if (backlog > 0) this.ctx.jobs.persistSoon(productId);
    return backlog;
  }

  /** Worker: writes the product's outboxes to Postgres in batches. Returns the records written. */
  async drain(productId: string): Promise<number> {
    const k = this.ctx.keys.product(productId);
    let written = 0;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const [orders, events, notices] = await Promise.all([this.writeOrders(productId, k), this.writeEvents(productId, k), this.writeNotices(productId, k)]);
      written += orders + events + notices;
      if (orders < BATCH && events < BATCH && notices < BATCH) break;
    }
    if (written > 0) await this.progress.record(productId);
    return written;
  }

  private async writeOrders(productId: string, k: ProductKeys): Promise<number> {
    const batch = await this.read(k.outbox, k.orders);
    const failed = await this.upsert(batch, 'order', (seq, raw) => orderRow(productId, seq, raw), (rows) => this.writeOrderRows(productId, rows));
    await this.markPersisted(batch, failed, (p, id, raw) => commands.markOrderPersisted(p, k, id, raw));
    return batch.length;
  }

  /**
   * The rows, and the outbound events of those that moved in the same transaction; their deliveries
   * start once committed. A row whose id Postgres has with other facts is kept aside as a conflict and
   * leaves the outbox like a written one: it must never be merged, and retrying cannot change that.
   * `also` writes more in the same transaction.
   */
  private async writeOrderRows(productId: string, rows: OrderWrite[], also?: (tx: Db) => Promise<unknown>): Promise<void> {
    const { deliveries, conflicts } = await this.ctx.sql.begin(async (tx) => {
      const moved = rows.length > 0 ? await orderRows.upsert(tx, rows) : [];
      const movedIds = new Set(moved.map((m) => m.id));
      const conflicts = await orderConflicts.recordConflicts(tx, rows.filter((r) => !movedIds.has(r.id)));
      const deliveries = await this.outbound.record(tx, productId, rows, moved);
      await also?.(tx);
      return { deliveries, conflicts };
    });
    if (conflicts.length > 0) {
      this.ctx.logger.error({ productId, orderIds: conflicts.map((c) => c.id) }, 'order ids Postgres has for other orders: kept in order_conflicts, not merged');
    }
    await this.outbound.start(deliveries);
  }

  /** Hold and ticket notices become outbound events; the members written are taken out (others may have come meanwhile). */
  private async writeNotices(productId: string, k: ProductKeys): Promise<number> {
    const members = await this.ctx.redis.zrange(k.notices, '0', String(BATCH - 1));
    if (members.length === 0) return 0;
    await this.outbound.recordNotices(productId, members);
    await this.ctx.redis.zrem(k.notices, ...members);
    return members.length;
  }

  private async writeEvents(productId: string, k: ProductKeys): Promise<number> {
    const batch = await this.read(k.eventOutbox, k.events);
    const failed = await this.upsert(batch, 'payment event', (_, raw) => {
      const ev = parsePaymentEvent(raw);
      return eventRow(ev.payload, ev.result, new Date(ev.at));
    }, (rows) => this.writeEventRows(productId, k, rows));
    await this.markPersisted(batch, failed, (p, id, raw) => commands.markEventPersisted(p, k, id, raw));
    return batch.length;
  }

  /**
   * Events settle their inbox rows, which recovery then trusts to be in Postgres with their orders: so
   * each event is written in one transaction with its order as Redis has it now, at least as far along
   * as the event left it (the script that applied the event changed the order in the same step). The
   * orders' own drain may write the same rows again; status only moves forward.
   */
  private async writeEventRows(productId: string, k: ProductKeys, rows: PaymentEventWrite[]): Promise<void> {
    // sorted as the orders' drain sorts them: concurrent transactions lock the rows in the same order
    const seqs = [...new Set(rows.map((r) => parseId('h', r.hold_id)?.seq).filter((seq): seq is string => seq !== undefined))].sort();
    const raws = seqs.length > 0 ? await this.ctx.redis.hmget(k.orders, ...seqs) : [];
    const orders = seqs.flatMap((seq, i) => (raws[i] ? [orderRow(productId, seq, raws[i])] : []));
    await this.writeOrderRows(productId, orders, (tx) => paymentEventRows.upsert(tx, rows));
  }

  /**
   * Up to BATCH members of an outbox with their records, sorted by id: concurrent drains then lock
   * rows in the same order and cannot deadlock.
   */
  private async read(outbox: string, records: string): Promise<{ id: string; raw: string | null }[]> {
    const ids = ((await this.ctx.redis.srandmember(outbox, BATCH)) as string[]).sort();
    if (ids.length === 0) return [];
    const raws = await this.ctx.redis.hmget(records, ...ids);
    return ids.map((id, i) => ({ id, raw: raws[i] ?? null }));
  }

  /**
   * Upserts a batch's rows in one statement. If Postgres refuses the statement for a reason other than
   * being unreachable, each row is written alone, so one bad record cannot hold back the others; the
   * ids that still fail are logged and returned (they stay in the outbox, visible to reconcile).
   */
  private async upsert<R>(
    batch: { id: string; raw: string | null }[],
    what: string,
    toRow: (id: string, raw: string) => R,
    write: (rows: R[]) => Promise<unknown>,
  ): Promise<Set<string>> {
    const entries = batch.filter((e): e is { id: string; raw: string } => e.raw !== null).map((e) => ({ id: e.id, row: toRow(e.id, e.raw) }));
    const failed = new Set<string>();
    if (entries.length === 0) return failed;
    try {
      await write(entries.map((e) => e.row));
    } catch (err) {
      if (isUnavailable(err)) throw err;
      for (const e of entries) {
        await write([e.row]).catch((rowErr: unknown) => {
          if (isUnavailable(rowErr)) throw rowErr;
          failed.add(e.id);
          this.ctx.logger.error({ err: rowErr, id: e.id }, `Postgres refused a ${what}; it stays in the outbox`);
        });
      }
    }
    return failed;
  }

  private async markPersisted(
    batch: { id: string; raw: string | null }[],
    failed: Set<string>,
    mark: (pipeline: ChainableCommander, id: string, raw: string) => unknown,
  ): Promise<void> {
    if (batch.length === 0) return;
    const pipeline = this.ctx.redis.pipeline();
    for (const { id, raw } of batch) if (!failed.has(id)) mark(pipeline, id, raw ?? '');
    await pipeline.exec();
  }
}

/** An order's Postgres row from its Redis record. */
function orderRow(productId: string, seq: string, raw: string): OrderWrite {
  const o = parseOrder(raw);
  return {
    id: formatId('o', { productId, seq }),
    hold_id: formatId('h', { productId, seq }),
    user_id: o.user,
    product_id: productId,
    qty: o.qty,
    unit_price_minor: o.unit_price,
    total_minor: o.total,
    currency: o.currency,
    status: o.status,
    created_at: new Date(o.created),
    payment_due_at: new Date(o.due),
    updated_at: new Date(o.updated),
  };
}
