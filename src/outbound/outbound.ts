import type { Logger } from 'pino';
import type { Db } from '../db/sql.js';
import * as orderRows from '../db/orders.js';
import type { OrderMoved, OrderWrite } from '../db/orders.js';
import * as productRows from '../db/products.js';
import * as deliveryRows from '../db/webhook-deliveries.js';
import type { DeliveryStatus } from '../db/webhook-deliveries.js';
import * as endpointRows from '../db/webhook-endpoints.js';
import * as eventRows from '../db/webhook-events.js';
import type { EngineContext } from '../engine/context.js';
import { HoldEventType } from '../contract.js';
import { parseNotice } from '../engine/records.js';
import { commands } from '../redis/commands.js';
import { noticeEvent, orderEvents, soldOutEvent } from './events.js';
import { send } from './send.js';

/** Overdue deliveries the safety net hands back to the queue per run. */
const OVERDUE_BATCH = 1000;

/** Products told at once whether to write hold notices. */
const SYNC_BATCH = 500;
/** The advisory lock that makes endpoint changes, with their hold-events switch, take turns (a number no other lock uses: migrations take 7,355,608). */
const HOLD_EVENTS_SYNC_LOCK = 7_355_609;

/** An endpoint whose every attempt failed for this long is disabled when one more delivery fails for good. */
const FAILING_FOR_MS = 5 * 86_400_000;
/** The longest a receiver's `Retry-After` may push its next attempt back. */
const MAX_RETRY_AFTER_MS = 3_600_000;
/** The most a retry is put off at random, as a share of its wait. */
const RETRY_JITTER = 0.1;

/**
 * The wait before a delivery's next attempt (the Standard Webhooks specification's advice): the
 * schedule's, or the receiver's `Retry-After` when longer (up to an hour), plus up to a tenth at random,
 * so that the retries of an outage's many failed deliveries do not all arrive at one moment.
 */
export function nextDelay(scheduledMs: number, retryAfterMs: number | null, random = Math.random): number {
  const wait = Math.max(scheduledMs, Math.min(retryAfterMs ?? 0, MAX_RETRY_AFTER_MS));
  return Math.round(wait * (1 + RETRY_JITTER * random()));
}

/**
 * Outbound events, a transactional outbox in Postgres. The persistence drain writes, in the same
 * transaction as the order rows, an event for each row that actually moved (the upsert says which) and
 * a pending delivery per subscribed endpoint: events are exactly the changes Postgres got, and a drain
 * that is retried finds nothing moved and writes nothing twice. Once committed, each delivery gets a
 * job for its first attempt; a job is "attempt N of delivery D" (deterministic id) and does nothing
 * unless D is still pending with N-1 attempts, so a job that runs twice or late sends at most a
 * duplicate with the same `webhook-id`, which the Standard Webhooks specification allows. Each attempt
 * is recorded with the delivery's next state (delivered, the next attempt's time, or failed when the
 * retry schedule is exhausted) in one statement, then the next attempt's job is added. A periodic job
 * re-adds the job of every overdue pending delivery, so a crash between commit and enqueue, a killed
 * worker or a lost job delays a delivery but never loses it. Delivery runs on its own queue with a
 * request timeout: a slow or dead receiver never holds up holds or persistence.
 */
export class Outbound {
  constructor(private readonly ctx: EngineContext) {}

  private get schedule(): number[] {
    return this.ctx.config.WEBHOOK_RETRY_SCHEDULE_MS;
  }

  /**
   * Drain, inside its transaction: the events of the orders that moved, and `product.sold_out` when
   * paid orders now cover the product's stock. Returns the new deliveries, to `start` once committed.
   */
  async record(tx: Db, productId: string, written: OrderWrite[], moved: OrderMoved[]): Promise<string[]> {
    if (moved.length === 0) return [];
    const events = orderEvents(written, moved);
    if (moved.some((m) => m.status === 'paid') && (await endpointRows.subscribed(tx, ['product.sold_out']))) {
      // the product's row lock makes concurrent drains of it take turns, so the last one sees every paid order
      const product = await productRows.lock(tx, productId);
      const { sold } = await orderRows.committedUnits(tx, productId);
      if (product && product.stock > 0 && sold >= product.stock) events.push(soldOutEvent(productId, product.stock, sold, new Date()));
    }
    return eventRows.insertWithDeliveries(tx, events, this.schedule[0]!);
  }

  /**
   * Drain: the events of a product's hold and ticket notices (lua/includes/notices.lua), those some
   * endpoint subscribes to, with their deliveries started. Each notice's event is once-only by its
   * subject, so a drain that is retried after a crash writes nothing twice.
   */
  async recordNotices(productId: string, members: string[]): Promise<void> {
    const events = members.map((m) => noticeEvent(productId, parseNotice(m)));
    await this.start(await eventRows.insertWithDeliveries(this.ctx.sql, events, this.schedule[0]!));
  }

  /** Whether some endpoint subscribes to a hold event: only then do the scripts write hold notices. */
  holdEventsOn(db: Db = this.ctx.sql): Promise<boolean> {
    return endpointRows.subscribed(db, HoldEventType.options);
  }

  /**
   * `holdEventsOn` for a product's load, in `tx`: it waits for an endpoint change under way, and a
   * change waits for its commit. (Read while a change's switch was written but not committed, the
   * committed subscriptions would undo the switch on the product loaded.)
   */
  async holdEventsInTurn(tx: Db): Promise<boolean> {
    await tx`SELECT pg_advisory_xact_lock_shared(${HOLD_EVENTS_SYNC_LOCK})`;
    return this.holdEventsOn(tx);
  }

  /**
   * Changes an endpoint (`change` answers it, or null for none) and, when it subscribes to hold events,
   * tells every product's record whether to write hold notices, in one transaction: a change whose
   * switch cannot be written (Redis down) rolls back with it. The transaction holds an advisory lock:
   * changes take turns, each reading the subscriptions once the one before has written them (of two
   * that overlap, an endpoint registered while another is deleted, the older read could land last).
   * `beforeCommit` runs last in it (a request's `Deadline.check`). (A product loaded meanwhile by
   * another process reads the subscriptions itself.)
   */
  async changeEndpoint<R extends { events: string[] }>(change: (tx: Db) => Promise<R | null>, beforeCommit = () => {}): Promise<R | null> {
    let switched = false;
    try {
      return await this.inTurn(async (tx) => {
        const endpoint = await change(tx);
        if (endpoint?.events.some((e) => HoldEventType.safeParse(e).success)) {
          switched = true;
          await this.switchHoldEvents(tx);
        }
        beforeCommit();
        return endpoint;
      });
    } catch (err) {
      // a change that rolled back after its switch was written: the switch goes back to what is committed
      if (switched) {
        await this.inTurn((tx) => this.switchHoldEvents(tx)).catch((switchErr: unknown) => {
          this.ctx.logger.error({ err: switchErr }, 'hold-events switch may not match the endpoints until they change again');
        });
      }
      throw err;
    }
  }

  /** A transaction that holds the endpoint changes' advisory lock: they take turns. */
  private inTurn<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    return this.ctx.sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${HOLD_EVENTS_SYNC_LOCK})`;
      return work(tx);
    }) as Promise<T>;
  }

  /** Tells every product's record whether some endpoint subscribes to hold events, as `tx` reads it. */
  private async switchHoldEvents(tx: Db): Promise<void> {
    const on = await this.holdEventsOn(tx);
    const ids = await this.ctx.redis.smembers(this.ctx.keys.productIndex);
    for (let i = 0; i < ids.length; i += SYNC_BATCH) {
      await Promise.all(ids.slice(i, i + SYNC_BATCH).map((id) => commands.setHoldEvents(this.ctx.redis, this.ctx.keys.product(id), on)));
    }
  }

  /** After the drain's commit: the first attempt of each new delivery. */
  async start(deliveryIds: string[]): Promise<void> {
    await Promise.all(deliveryIds.map((id) => this.enqueue(id, 1, this.schedule[0]!)));
  }

  /** Job: attempt `attempt` of a delivery; what the delivery became, or `stale` for a job with nothing to do. */
  async attempt(deliveryId: string, attempt: number): Promise<DeliveryStatus | 'stale'> {
    const d = await deliveryRows.toSend(this.ctx.sql, deliveryId);
    if (!d || d.status !== 'pending' || d.attempts !== attempt - 1) return 'stale';
    // a disabled endpoint's deliveries fail unsent; a receiver that answers 410 Gone wants no more events
    const result = d.disabled_at
      ? { ok: false, at: new Date(), statusCode: null, error: 'endpoint disabled', durationMs: 0, retryAfterMs: null }
      : await send({ id: d.event_id, payload: d.payload, url: d.url, secret: d.secret }, this.ctx.config.WEBHOOK_TIMEOUT_MS);
    const gone = result.statusCode === 410;
    const round = d.round_attempts + 1;
    const status: DeliveryStatus = result.ok ? 'delivered' : !gone && !d.disabled_at && round < this.schedule.length ? 'pending' : 'failed';
    const nextDelayMs = status === 'pending' ? nextDelay(this.schedule[round]!, result.retryAfterMs) : null;
    const moved = await deliveryRows.recordAttempt(this.ctx.sql, {
      delivery_id: deliveryId,
      attempt,
      at: result.at,
      status_code: result.statusCode,
      error: result.error,
      duration_ms: result.durationMs,
      status,
      round_attempts: round,
      nextDelayMs,
    });
    if (!moved) return 'stale';
    if (nextDelayMs !== null) await this.enqueue(deliveryId, attempt + 1, nextDelayMs);
    // the Standard Webhooks specification's advice: an endpoint whose receiver answered 410 Gone, or
    // whose every attempt failed for FAILING_FOR_MS, is disabled
    const exhausted = status === 'failed' && !gone && !d.disabled_at;
    if (exhausted) this.ctx.logger.warn({ deliveryId, eventId: d.event_id, url: d.url, attempts: attempt, error: result.error }, 'outbound event not delivered; retries exhausted');
    // (a disabled endpoint makes no deliveries, and its pending ones fail at their next attempt, until it is enabled again)
    const disabled = gone
      ? await this.changeEndpoint((tx) => endpointRows.disable(tx, d.endpoint_id, 'answered 410 Gone'))
      : exhausted ? await this.changeEndpoint((tx) => endpointRows.disableIfFailing(tx, d.endpoint_id, FAILING_FOR_MS)) : null;
    if (disabled) this.ctx.logger.warn({ endpointId: disabled.id, url: disabled.url, reason: disabled.disabled_reason }, 'webhook endpoint disabled');
    return status;
  }

  /** Admin: sends a delivered or failed delivery again from the start of the schedule; false if pending or unknown. */
  async redeliver(deliveryId: string, log: Logger = this.ctx.logger): Promise<boolean> {
    const attempt = await deliveryRows.restart(this.ctx.sql, deliveryId, this.schedule[0]!);
    if (attempt === null) return false;
    await this.enqueue(deliveryId, attempt, this.schedule[0]!, log);
    return true;
  }

  /** Periodic job: re-adds the job of every overdue pending delivery (adding one that exists is a no-op). */
  async requeueOverdue(): Promise<number> {
    const overdue = await deliveryRows.overdue(this.ctx.sql, OVERDUE_BATCH);
    await Promise.all(overdue.map((d) => this.enqueue(d.id, d.attempt, 0)));
    return overdue.length;
  }

  private enqueue(deliveryId: string, attempt: number, delayMs: number, log: Logger = this.ctx.logger): Promise<void> {
    return this.ctx.queues.add('deliver-event', { deliveryId, attempt }, `deliver-${deliveryId}-${attempt}`, delayMs).then(
      () => undefined,
      (err: unknown) => log.warn({ err, deliveryId, attempt }, 'could not queue a delivery attempt; the overdue check will'),
    );
  }
}
