import type { ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import type { InboxRecovery, PaymentEvent, PaymentOutcome } from '../contract.js';
import * as inboxRows from '../db/payment-inbox.js';
import * as paymentEventRows from '../db/payment-events.js';
import { bounded, type Db } from '../db/sql.js';
import { AppError, orRefusal } from '../errors.js';
import type { EngineContext } from './context.js';
import { fingerprint, type Payments } from './payments.js';
import type { ExecResults } from './products.js';
import type { RawReply } from '../redis/scripts.js';

/** A delivery as the inbox keeps it with each of its events: the body as received and its signature header(s). */
type DeliveryRecord = Pick<inboxRows.InboxWrite, 'raw' | 'signatures'>;

/** Rows younger than this may still be in the hands of the request that wrote them. */
const SWEEP_MIN_AGE_MS = 2_000;
/** Open events read at a time. */
const BATCH = 500;

/** One event of a delivery once received: what applying it did, or why the engine refused it (a 4xx). */
export type Received = PaymentOutcome | AppError;

/**
 * The payments inbox: an acknowledged payment is in Postgres before the provider hears 200.
 * 1. A delivery's verified events are inserted into `payment_inbox` (one INSERT ... ON CONFLICT each; an
 *    id is unique across the engine), all of them before any is applied in Redis; the 200 follows both.
 *    Postgres down: 503, nothing applied, the provider retries. A known id with the same content is
 *    applied again, which Redis answers as the duplicate it is (or applies it, if the first attempt never
 *    got there); other content is refused. One event refused holds up no other of its delivery: a batch
 *    provider cannot be told about one item, and would resend them all.
 * 2. The drain writes each applied event's result to `payment_events` and to its inbox row in one
 *    statement, so an inbox row without a result is an event Redis may not know.
 * 3. Recovery (each sweep, at worker start, on demand) applies those of them that Redis does not know
 *    (the script's event id check makes even a race with a webhook's own apply a no-op) once. A product
 *    rebuilt from Postgres applies its own in the rebuild's Redis transaction: Postgres may still have
 *    pending an order that an acknowledged event paid, which must not expire first. A success whose hold
 *    Redis and Postgres have both lost is marked refund_required on its row, a failure ignored: never dropped.
 */
export class PaymentInbox {
  constructor(
    private readonly ctx: EngineContext,
    private readonly payments: Payments,
  ) {}

  /**
   * Stores the verified events of `provider`'s delivery, then applies them in their order. An event the
   * engine refuses (its id known with other content, no such hold, not the order's amount) has the
   * refusal as its answer; if it was stored it stays in the inbox, with amount_mismatch as its result or
   * open for recovery. Anything else (Postgres or Redis unreachable) fails the delivery, for the provider
   * to send again: what it stored meanwhile is kept, what it applied answers duplicate.
   */
  async receive(provider: string, delivery: DeliveryRecord, events: PaymentEvent[], log: Logger = this.ctx.logger): Promise<Received[]> {
    const refused = new Map<PaymentEvent, AppError>();
    for (const e of events) {
      const stored = await orRefusal(() => this.store(provider, delivery, e));
      if (stored instanceof AppError) refused.set(e, stored);
    }
    const received: Received[] = [];
    for (const e of events) received.push(refused.get(e) ?? (await orRefusal(() => this.payments.apply(e, log))));
    return received;
  }

  private async store(provider: string, delivery: DeliveryRecord, e: PaymentEvent): Promise<void> {
    this.payments.target(e);
    const stored = await bounded(inboxRows.insert(this.ctx.sql, { provider, event: e, ...delivery }));
    if (stored.provider !== provider || fingerprint(stored.event) !== fingerprint(e)) {
      throw new AppError('idempotency_key_reused', `event ${e.event_id} was received before with other content (${stored.provider}, hold ${stored.event.hold_id})`);
    }
  }

  /** Applies the open inbox events received at least `minAgeMs` ago again; see the class comment. */
  async recover({ minAgeMs = SWEEP_MIN_AGE_MS } = {}, log: Logger = this.ctx.logger): Promise<InboxRecovery> {
    const report: InboxRecovery = { checked: 0, reapplied: 0, refund_required: 0, unresolved: 0 };
    // every open row, page after page: rows that stay open (deferred, not yet drained, refused) cannot hide newer ones
    let cursor: inboxRows.InboxCursor | null = await bounded(inboxRows.openSince(this.ctx.sql, minAgeMs));
    do {
      const page: inboxRows.InboxPage = await bounded(inboxRows.open(this.ctx.sql, cursor, BATCH));
      for (const { event: e } of page.entries) {
        report.checked++;
        const outcome = await this.reapply(e, log);
        if (outcome === 'known') continue;
        report[outcome]++;
        const line = { eventId: e.event_id, type: e.type, holdId: e.hold_id };
        if (outcome === 'reapplied') log.warn(line, 'payment event from the inbox applied: Redis did not know it');
        else if (outcome === 'refund_required') log.error(line, 'acknowledged payment for a hold that is gone: refund required');
      }
      cursor = page.next;
    } while (cursor);
    return report;
  }

  /**
   * A product's open events, read in its rebuild's Postgres transaction: the rebuild queues them on its
   * Redis transaction after its orders (`queueApplies`). An order that Postgres has pending while an
   * acknowledged event paid it is then never served, expired or released in between.
   */
  async openOf(db: Db, productId: string): Promise<PaymentEvent[]> {
    const rows = await inboxRows.openEndingIn(db, `_${productId}`);
    return rows.map((r) => r.event).filter((e) => this.payments.target(e).ref.productId === productId);
  }

  queueApplies(t: ChainableCommander, events: readonly PaymentEvent[]): void {
    for (const e of events) this.payments.queueApply(t, e);
  }

  /** The replies to what queueApplies queued, in its order, once the transaction ran; one it could not apply is left to `recover`. */
  appliedWith(events: readonly PaymentEvent[], replies: ExecResults, log: Logger = this.ctx.logger): void {
    events.forEach((e, i) => {
      if (this.payments.queuedApplied(e, replies[i]![1] as RawReply)) {
        log.warn({ eventId: e.event_id, type: e.type, holdId: e.hold_id }, 'payment event from the inbox applied with its product\'s rebuild');
      }
    });
  }

  private async reapply(e: PaymentEvent, log: Logger): Promise<'known' | 'reapplied' | 'refund_required' | 'unresolved'> {
    // what Redis knows is left alone: no script call, and no duplicate counted in the webhook metrics
    const { ref, orderId } = this.payments.target(e);
    if (await this.ctx.redis.hexists(this.ctx.keys.product(ref.productId).events, e.event_id)) return 'known';
    try {
      const { result } = await this.payments.apply(e, log);
      // (what changes nothing is not reported as applied)
      return result === 'duplicate' || result === 'ignored' ? 'known' : 'reapplied';
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      // a mismatch is recorded with the event (now, or already): nothing more to do
      if (err.code === 'amount_mismatch') return 'known';
      if (err.code === 'hold_not_found') {
        const succeeded = e.type === 'payment.succeeded';
        // a Redis rebuilt from Postgres brings back pending orders only: one this event paid is not pending
        if (succeeded && (await bounded(paymentEventRows.paidBy(this.ctx.sql, { id: orderId, holdId: e.hold_id }, e.event_id)))) {
          await bounded(inboxRows.settle(this.ctx.sql, e.event_id, 'applied'));
          return 'known';
        }
        await bounded(inboxRows.settle(this.ctx.sql, e.event_id, succeeded ? 'refund_required' : 'ignored'));
        return succeeded ? 'refund_required' : 'known';
      }
      log.error({ err, eventId: e.event_id }, 'payment event from the inbox refused; it stays open');
      return 'unresolved';
    }
  }
}
