import { createHash } from 'node:crypto';
import type { Job } from 'bullmq';
import { commands } from '../redis/commands.js';
import { formatId } from '../redis/keys.js';
import type { EngineContext } from './context.js';
import type { OrderRecord, PaymentEventRecord } from './records.js';

/** Record states a script changed: order seq -> status, event id -> result. */
export interface Changes {
  orders: Record<string, string>;
  events: Record<string, string>;
}

const eventJobId = (eventId: string, result: string) =>
  `persist-event-${createHash('sha1').update(eventId).digest('hex')}-${result}`;

/**
 * Postgres as the system of record. Scripts put every changed order and payment event in a Redis
 * outbox in the same atomic step; this hands each new state to the worker as a job with a
 * deterministic id, the worker upserts it (status only moves forward) and takes it out of the outbox.
 * The sweep re-enqueues whatever the outbox still holds, so a crash between steps loses nothing.
 */
export class Persistence {
  constructor(private readonly ctx: EngineContext) {}

  /** Enqueues a write for every changed record; failures are left to the outbox sweep. */
  enqueue(productId: string, changes: Changes): Promise<void> {
    const jobs: Promise<unknown>[] = [];
    for (const [seq, status] of Object.entries(changes.orders)) {
      jobs.push(this.ctx.queues.add('persist-order', { productId, seq }, `persist-order-${formatId('o', { productId, seq })}-${status}`));
    }
    for (const [eventId, result] of Object.entries(changes.events)) {
      jobs.push(this.ctx.queues.add('persist-event', { productId, eventId }, eventJobId(eventId, result)));
    }
    return Promise.all(jobs).then(
      () => undefined,
      (err: unknown) => this.ctx.logger.warn({ err, productId }, 'could not enqueue persistence; the outbox sweep will'),
    );
  }

  /** Worker: writes an order's current state to Postgres, then clears it from the outbox. */
  async writeOrder(productId: string, seq: string): Promise<void> {
    const k = this.ctx.keys.product(productId);
    const raw = await this.ctx.redis.hget(k.orders, seq);
    if (raw === null) return;
    const o = JSON.parse(raw) as OrderRecord;
    const id = formatId('o', { productId, seq });
    await this.ctx.sql`
      INSERT INTO orders (id, hold_id, user_id, product_id, qty, unit_price_minor, total_minor, currency, status,
                          created_at, payment_due_at, updated_at)
      VALUES (${id}, ${formatId('h', { productId, seq })}, ${o.user}, ${productId}, ${o.qty}, ${o.unit_price}, ${o.total},
              ${o.currency}, ${o.status}, ${new Date(o.created)}, ${new Date(o.due)}, ${new Date(o.updated)})
      ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, persisted_at = now()
      WHERE order_status_rank(orders.status) < order_status_rank(EXCLUDED.status)`;
    await commands.markOrderPersisted(this.ctx.redis, k, seq, raw);
  }

  /** Worker: writes a payment event (payload and result) to Postgres, then clears it from the outbox. */
  async writeEvent(productId: string, eventId: string): Promise<void> {
    const k = this.ctx.keys.product(productId);
    const raw = await this.ctx.redis.hget(k.events, eventId);
    if (raw === null) return;
    const ev = JSON.parse(raw) as PaymentEventRecord;
    const p = JSON.parse(ev.payload) as { type: string; hold_id: string; order_id?: string; amount_minor: number; currency: string };
    await this.ctx.sql`
      INSERT INTO payment_events (event_id, type, hold_id, order_id, amount_minor, currency, payload, result, received_at)
      VALUES (${eventId}, ${p.type}, ${p.hold_id}, ${p.order_id ?? null}, ${p.amount_minor}, ${p.currency},
              ${ev.payload}::jsonb, ${ev.result}, ${new Date(ev.at)})
      ON CONFLICT (event_id) DO UPDATE SET result = EXCLUDED.result, persisted_at = now()
      WHERE payment_events.result = 'deferred' AND EXCLUDED.result <> 'deferred'`;
    await commands.markEventPersisted(this.ctx.redis, k, eventId, raw);
  }

  /** Sweep: re-enqueues what a product's outboxes still hold (deduplicated by job id). */
  async drainOutbox(productId: string): Promise<number> {
    const k = this.ctx.keys.product(productId);
    const [seqs, eventIds] = await Promise.all([this.ctx.redis.smembers(k.outbox), this.ctx.redis.smembers(k.eventOutbox)]);
    if (seqs.length === 0 && eventIds.length === 0) return 0;
    const [orders, events] = await Promise.all([
      seqs.length ? this.ctx.redis.hmget(k.orders, ...seqs) : [],
      eventIds.length ? this.ctx.redis.hmget(k.events, ...eventIds) : [],
    ]);
    const changes: Changes = { orders: {}, events: {} };
    seqs.forEach((seq, i) => {
      const raw = orders[i];
      if (raw) changes.orders[seq] = (JSON.parse(raw) as OrderRecord).status;
    });
    eventIds.forEach((id, i) => {
      const raw = events[i];
      if (raw) changes.events[id] = (JSON.parse(raw) as PaymentEventRecord).result;
    });
    await this.enqueue(productId, changes);
    return seqs.length + eventIds.length;
  }

  /** Sweep: jobs that exhausted their retries (e.g. a long Postgres outage) are given another round. */
  async retryFailed(): Promise<number> {
    const failed: Job[] = await this.ctx.queues.byName.persist.getFailed(0, 999);
    await Promise.all(failed.map((job) => job.retry('failed').catch(() => undefined)));
    return failed.length;
  }
}
