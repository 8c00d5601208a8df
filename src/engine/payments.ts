import type { ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import type { PaymentEvent, PaymentOutcome } from '../contract.js';
import * as orderRows from '../db/orders.js';
import * as inboxRows from '../db/payment-inbox.js';
import * as paymentEventRows from '../db/payment-events.js';
import { bounded } from '../db/sql.js';
import { AppError } from '../errors.js';
import { commands, type ScriptPayment } from '../redis/commands.js';
import { formatId, parseId, type RecordRef } from '../redis/keys.js';
import type { EngineContext } from './context.js';
import { NO_OBSERVER, type EngineObserver } from './observer.js';
import type { Persistence } from './persistence.js';
import type { ProductGate } from './recovery.js';
import { decode, ReplyCode } from '../redis/replies.js';
import type { RawReply } from '../redis/scripts.js';
import { toDomainError } from './refusals.js';

/** What makes two deliveries "the same event": its content, not its JSON formatting. */
export function fingerprint(e: PaymentEvent): string {
  return JSON.stringify([e.type, e.hold_id, e.order_id ?? null, e.amount_minor, e.currency]);
}

const scriptPayment = (e: PaymentEvent): ScriptPayment => ({
  eventId: e.event_id,
  kind: e.type === 'payment.succeeded' ? 'succeeded' : 'failed',
  amount: e.amount_minor,
  currency: e.currency,
  fingerprint: fingerprint(e),
  payload: JSON.stringify(e),
});

export class Payments {
  observer: EngineObserver = NO_OBSERVER;
  /** checks a product against Postgres before this process first serves it (set by the engine: Recovery) */
  gate: ProductGate | null = null;

  constructor(
    private readonly ctx: EngineContext,
    private readonly persistence: Persistence,
  ) {}

  /** Applies a verified payment event: one effect per event id, atomically with the order change. */
  async apply(e: PaymentEvent, log: Logger = this.ctx.logger): Promise<PaymentOutcome> {
    const { ref, orderId } = this.target(e);
    const script = scriptPayment(e);
    const k = this.ctx.keys.product(ref.productId);
    if (this.gate && !this.gate.checked(ref.productId)) await this.gate.ensure(ref.productId);
    const applyInRedis = async () => decode.applyPayment(await commands.applyPayment(this.ctx.redis, k, ref.seq, script));
    let reply = await applyInRedis();
    // a hold whose product lost its whole record in Redis: rebuilt from Postgres, its pending order is back
    if (!reply.ok && reply.code === ReplyCode.HoldNotFound && this.gate && (await this.gate.lostRecord(ref.productId))) reply = await applyInRedis();
    // a late redelivery after Redis dropped the hold and its events: Postgres remembers the event. (One
    // Postgres has as deferred never reached an order: with its hold gone it is not a duplicate.) A new
    // success for an order that ended unpaid and whose records Redis dropped: they are written back, and it applies.
    // Any other event for an order that ended, its records dropped, is answered as Redis would answer it:
    // its amount checked, then ignored (or a duplicate, for the success that paid it).
    let recorded: string | null = null;
    let orderRow: orderRows.OrderRow | null = null;
    if (!reply.ok && reply.code === ReplyCode.HoldNotFound) {
      recorded = await this.recordedInPostgres(e.event_id);
      if (!recorded && script.kind === 'succeeded' && this.gate && (await this.gate.restoreEnded(ref))) reply = await applyInRedis();
      else if (recorded === 'amount_mismatch' || !recorded) orderRow = await bounded(orderRows.find(this.ctx.sql, orderId));
    }
    try {
      if (!reply.ok) {
        if (orderRow && (Number(orderRow.total_minor) !== e.amount_minor || orderRow.currency !== e.currency)) {
          if (!recorded) await bounded(paymentEventRows.upsert(this.ctx.sql, [paymentEventRows.eventRow(JSON.stringify(e), 'amount_mismatch', new Date())]));
          this.mismatched(e, log);
          throw toDomainError({ ok: false, code: ReplyCode.AmountMismatch, expectedTotal: Number(orderRow.total_minor), expectedCurrency: orderRow.currency });
        }
        if (recorded === 'amount_mismatch') {
          // refused before, against a hold that never had an order: refused again, as Redis refused its retries
          this.mismatched(e, log);
          throw new AppError('amount_mismatch', 'this event was refused before: its amount or currency differs from what the hold costs');
        }
        if (recorded) {
          this.observer.paymentEvent('duplicate', null);
          return { result: 'duplicate', order_id: null, order_status: null };
        }
        if (orderRow && orderRow.status !== 'pending_payment') {
          // the success that paid the order, whose own record did not reach Postgres (Redis lost it): a duplicate
          if (script.kind === 'succeeded' && orderRow.status === 'paid' && (await bounded(paymentEventRows.paidBy(this.ctx.sql, { id: orderId, holdId: e.hold_id }, e.event_id)))) {
            await bounded(inboxRows.settle(this.ctx.sql, e.event_id, 'applied'));
            this.observer.paymentEvent('duplicate', null);
            return { result: 'duplicate', order_id: orderId, order_status: 'paid' };
          }
          // no drain records an event Redis did not take: its inbox row is settled here
          await bounded(inboxRows.settle(this.ctx.sql, e.event_id, 'ignored'));
          this.observer.paymentEvent('ignored', orderRow.status);
          log.info({ eventId: e.event_id, type: e.type, orderId, status: orderRow.status }, 'payment event for an ended order ignored');
          return { result: 'ignored', order_id: orderId, order_status: orderRow.status };
        }
        if (reply.code === ReplyCode.AmountMismatch) {
          this.mismatchRecorded(ref.productId, e);
          this.mismatched(e, log);
        }
        throw toDomainError(reply);
      }
      const { result, order, changes } = reply;
      this.persistence.changed(ref.productId, changes);
      this.observer.paymentEvent(result, order?.status ?? null);
      if (result !== 'duplicate') log.info({ eventId: e.event_id, type: e.type, orderId, result, status: order?.status }, 'payment event');
      return { result, order_id: order ? orderId : null, order_status: order?.status ?? null };
    } finally {
      // after the bookkeeping of what the call did; an unconfirmed write replaces the answer
      if (this.ctx.durability.waitsForReplicas) await this.ctx.durability.confirm(k.product);
    }
  }

  /** Queues the event's apply on a rebuild's transaction: a product rebuilt from Postgres gets its open inbox events with its orders. */
  queueApply(t: ChainableCommander, e: PaymentEvent): void {
    const { ref } = this.target(e);
    commands.queueApplyPayment(t, this.ctx.keys.product(ref.productId), ref.seq, scriptPayment(e));
  }

  /** A queued apply's reply, once its transaction ran: true when it applied (its changes go to Postgres); else the inbox's recovery sees to it. */
  queuedApplied(e: PaymentEvent, raw: RawReply): boolean {
    const reply = decode.applyPayment(raw);
    const { productId } = this.target(e).ref;
    if (!reply.ok) {
      if (reply.code === ReplyCode.AmountMismatch) this.mismatchRecorded(productId, e);
      return false;
    }
    this.persistence.changed(productId, reply.changes);
    this.observer.paymentEvent(reply.result, reply.order?.status ?? null);
    return reply.result !== 'duplicate';
  }

  private mismatched(e: PaymentEvent, log: Logger): void {
    log.warn({ eventId: e.event_id, holdId: e.hold_id }, 'payment amount mismatch');
    this.observer.paymentEvent('amount_mismatch', null);
  }

  /** The script recorded the event as a mismatch, in the product's event outbox: on to Postgres. */
  private mismatchRecorded(productId: string, e: PaymentEvent): void {
    this.persistence.changed(productId, { orders: {}, events: { [e.event_id]: 'amount_mismatch' }, notices: 0 });
  }

  /** The hold and order an event is about; 404 when its ids name no hold, or an order that is not the hold's. */
  target(e: PaymentEvent): { ref: RecordRef; orderId: string } {
    const ref = parseId('h', e.hold_id);
    if (!ref) throw new AppError('hold_not_found');
    const orderId = formatId('o', ref);
    if (e.order_id !== undefined && e.order_id !== orderId) throw new AppError('order_not_found', `order ${e.order_id} is not the order of hold ${e.hold_id}`);
    return { ref, orderId };
  }

  private recordedInPostgres(eventId: string): Promise<string | null> {
    return bounded(paymentEventRows.settled(this.ctx.sql, eventId));
  }
}
