import type { HoldStatus, OrderStatus, PaymentResult } from '../../src/contract.js';
import type { HoldRecord } from '../../src/engine/records.js';
import { ReplyCode, type Changes, type HoldOutcome, type Refusal } from '../../src/redis/replies.js';

/**
 * What one product's Redis state should be after each step, kept in plain maps and written from SPEC's
 * rules rather than from the scripts. Stock counters and per-user units are not kept here: they are sums
 * over the records (SPEC invariant 1), so they cannot drift in the model and any drift in Redis shows.
 *
 * Time is modelled per record: a hold or order is placed either with a deadline far away or with one that
 * has passed ("lapsed") by the time the step ends, so every step's outcome is certain however slow the
 * machine is. (One step pays for a hold before its deadline and then waits for it.) The expiry sweep
 * ends every lapsed record, in creation order: the scripts' walk stops at the first record not due, and
 * looks past it while a shorter TTL followed a longer one (lua/includes/ttls.lua), which is how these
 * sequences place records, a lapsed one behind a live one.
 */

export const CURRENCY = 'EUR';

/** Removes the lapsed entries from a queue, wherever they are, and returns them in queue order. */
function takeLapsed(queue: number[], lapsed: (seq: number) => boolean): number[] {
  const taken = queue.filter(lapsed);
  const kept = queue.filter((seq) => !lapsed(seq));
  queue.splice(0, queue.length, ...kept);
  return taken;
}
export type PaymentKind = 'succeeded' | 'failed';

export interface SaleParams {
  total: number;
  /** per-user limit; null = none */
  limit: number | null;
  /** unit price, minor units */
  price: number;
}

export interface HoldRequest {
  user: string;
  qty: number;
  /** idempotency key; "" = none */
  key: string;
}

export interface Hold extends HoldRequest {
  seq: number;
  status: HoldStatus;
  lapsed: boolean;
  createdAt: number;
  expiresAt: number;
}

export interface Order {
  user: string;
  qty: number;
  status: OrderStatus;
  /** its payment deadline has passed */
  lapsed: boolean;
}

export interface PaymentEvent {
  id: string;
  seq: number;
  kind: PaymentKind;
  amount: number;
  result: PaymentResult;
}

/** The state both the model and Redis are read into, compared whole after every step. */
export interface Snapshot {
  counters: { total: number; available: number; held: number; pending: number; sold: number };
  holds: Record<string, { status: HoldStatus; user: string; qty: number }>;
  orders: Record<string, { status: OrderStatus; user: string; qty: number; total: number }>;
  /** user -> units held, pending and paid (no entry at zero) */
  used: Record<string, number>;
  /** event id -> result */
  events: Record<string, PaymentResult>;
  /** hold seq -> id of the payment event waiting for the hold's order */
  deferred: Record<string, string>;
  /** order seqs and event ids waiting to reach Postgres (nothing drains them here: all of them, sorted) */
  outbox: { orders: string[]; events: string[] };
}

/** An order as a step's answer shows it. */
export interface OrderView {
  status: OrderStatus;
  user: string;
  qty: number;
  total: number;
}

export type OrderAnswer = { ok: true; created: boolean; order: OrderView; changes: Changes } | Refusal;
export type PaymentAnswer = { ok: true; result: PaymentResult; order: OrderView | null; changes: Changes } | Refusal;
export type ReleaseAnswer = { ok: true; code: ReplyCode.Done | ReplyCode.Repeated; hold: HoldRecord; notices: number } | Refusal;
export interface SweepAnswer {
  holds: { expired: number; more: false; changes: Changes };
  orders: { expired: number; more: false; changes: Changes };
}

const refused = (code: ReplyCode): Refusal => ({ ok: false, code }) as Refusal;
const sum = (qtys: number[]) => qtys.reduce((a, b) => a + b, 0);

export class SaleModel {
  /** index = seq - 1: seqs are handed out 1, 2, 3 ... */
  readonly holds: Hold[] = [];
  readonly orders = new Map<number, Order>();
  /** user + key -> seq of the hold the key placed */
  readonly keyed = new Map<string, number>();
  readonly events = new Map<string, PaymentEvent>();
  readonly deferred = new Map<number, string>();
  /** seqs in creation order, as the expiry sweep walks them */
  private readonly holdQueue: number[] = [];
  private readonly orderQueue: number[] = [];
  /** what the current step reports for persistence (order seq -> status, event id -> result) */
  private changes: Changes = { orders: {}, events: {}, notices: 0 };

  constructor(readonly params: SaleParams) {}

  /** Units held, pending and sold; what is left is available. */
  private committed(pick: (user: string) => boolean = () => true) {
    const held = sum(this.holds.filter((h) => h.status === 'active' && pick(h.user)).map((h) => h.qty));
    const orders = [...this.orders.values()].filter((o) => pick(o.user));
    const pending = sum(orders.filter((o) => o.status === 'pending_payment').map((o) => o.qty));
    const sold = sum(orders.filter((o) => o.status === 'paid').map((o) => o.qty));
    return { held, pending, sold };
  }

  get available(): number {
    const { held, pending, sold } = this.committed();
    return this.params.total - held - pending - sold;
  }

  used(user: string): number {
    const { held, pending, sold } = this.committed((u) => u === user);
    return held + pending + sold;
  }

  hold(seq: number): Hold {
    return this.holds[seq - 1]!;
  }

  /** The hold's deadline has passed (a step waited for it). */
  lapse(seq: number): void {
    this.hold(seq).lapsed = true;
  }

  /** Starts a step: what it reports for persistence is collected afresh. */
  private begin(): Changes {
    this.changes = { orders: {}, events: {}, notices: 0 };
    return this.changes;
  }

  private saveOrder(seq: number, o: Order) {
    this.orders.set(seq, o);
    this.changes.orders[String(seq)] = o.status;
  }

  private saveEvent(e: PaymentEvent) {
    this.events.set(e.id, e);
    this.changes.events[e.id] = e.result;
  }

  private orderView(seq: number): OrderView | null {
    const o = this.orders.get(seq);
    return o ? { status: o.status, user: o.user, qty: o.qty, total: o.qty * this.params.price } : null;
  }

  /**
   * One request of a hold call (they are taken in order). `at` is the call's time as Redis answered it;
   * a placed hold takes it, a replay answers its own hold's times.
   */
  placeHold(req: HoldRequest, lapsed: boolean, at: { createdAt: number; expiresAt: number }): HoldOutcome {
    const field = `${req.user}\0${req.key}`;
    const earlier = req.key === '' ? undefined : this.keyed.get(field);
    if (earlier !== undefined) {
      const h = this.hold(earlier);
      if (h.qty !== req.qty) return refused(ReplyCode.IdempotencyKeyReused);
      return { ok: true, code: ReplyCode.Repeated, seq: h.seq, createdAt: h.createdAt, expiresAt: h.expiresAt };
    }
    const { limit } = this.params;
    const used = this.used(req.user);
    if (limit !== null && used + req.qty > limit) return { ok: false, code: ReplyCode.PerUserLimitExceeded, limit, used };
    const available = this.available;
    if (available < req.qty) return { ok: false, code: ReplyCode.InsufficientStock, available };
    const seq = this.holds.length + 1;
    this.holds.push({ ...req, seq, status: 'active', lapsed, ...at });
    this.holdQueue.push(seq);
    if (req.key !== '') this.keyed.set(field, seq);
    return { ok: true, code: ReplyCode.Done, seq, ...at };
  }

  /** Sells an order again whose reservation ended (late payment): paid if stock allows, else refund_required. */
  private reReserve(o: Order) {
    o.status = this.available >= o.qty ? 'paid' : 'refund_required';
  }

  /** A payment outcome on an existing order; status only moves forward. */
  private applyOutcome(seq: number, o: Order, kind: PaymentKind): PaymentResult {
    if (kind === 'succeeded') {
      if (o.status === 'pending_payment') o.status = 'paid';
      else if (o.status === 'expired' || o.status === 'payment_failed') this.reReserve(o);
      else return 'ignored';
    } else {
      if (o.status !== 'pending_payment') return 'ignored';
      o.status = 'payment_failed';
    }
    this.saveOrder(seq, o);
    return 'applied';
  }

  /** The payment that came before the hold's order, applied now that the order exists. */
  private applyDeferred(seq: number, o: Order) {
    const id = this.deferred.get(seq);
    if (id === undefined) return;
    this.deferred.delete(seq);
    const e = this.events.get(id)!;
    this.saveEvent({ ...e, result: this.applyOutcome(seq, o, e.kind) });
  }

  /** Marks a deferred event as overtaken. */
  private ignoreEvent(id: string) {
    this.saveEvent({ ...this.events.get(id)!, result: 'ignored' });
  }

  /** The hold's order, not saved yet; the hold is converted. */
  private newOrder(h: Hold, lapsed: boolean): Order {
    h.status = 'converted';
    return { user: h.user, qty: h.qty, status: 'pending_payment', lapsed };
  }

  /** A pending order for an active hold (its stock: held -> pending). */
  private convert(h: Hold, lapsed: boolean): Order {
    const o = this.newOrder(h, lapsed);
    this.saveOrder(h.seq, o);
    return o;
  }

  /**
   * Ends an active hold as released or expired. A success that came before its order makes it a paid
   * order instead (money is never kept without stock): answers 'converted' then.
   */
  private endActiveHold(h: Hold, status: 'released' | 'expired'): 'converted' | 'released' | 'expired' {
    const id = this.deferred.get(h.seq);
    if (id !== undefined) {
      if (this.events.get(id)!.kind === 'succeeded') {
        this.applyDeferred(h.seq, this.convert(h, true));
        return 'converted';
      }
      this.deferred.delete(h.seq);
      this.ignoreEvent(id);
    }
    h.status = status;
    return status;
  }

  release(seq: number, user: string): ReleaseAnswer {
    this.begin();
    const h = this.hold(seq);
    if (h.user !== user) return refused(ReplyCode.HoldNotFound);
    const record = (): HoldRecord => ({ status: h.status, qty: h.qty, createdAt: h.createdAt, expiresAt: h.expiresAt, unitPrice: this.params.price, userId: h.user });
    if (h.status === 'released') return { ok: true, code: ReplyCode.Repeated, hold: record(), notices: 0 };
    if (h.status === 'converted') return refused(ReplyCode.HoldNotActive);
    if (h.status === 'expired') return refused(ReplyCode.HoldExpired);
    const ended = this.endActiveHold(h, h.lapsed ? 'expired' : 'released');
    if (ended === 'converted') return refused(ReplyCode.HoldNotActive);
    if (ended === 'expired') return refused(ReplyCode.HoldExpired);
    return { ok: true, code: ReplyCode.Done, hold: record(), notices: 0 };
  }

  createOrder(seq: number, user: string, lapsed: boolean): OrderAnswer {
    const changes = this.begin();
    const h = this.hold(seq);
    if (h.user !== user) return refused(ReplyCode.HoldNotFound);
    if (h.status === 'converted') return { ok: true, created: false, order: this.orderView(seq)!, changes };
    if (h.status === 'released') return refused(ReplyCode.HoldNotActive);
    if (h.status === 'expired') return refused(ReplyCode.HoldExpired);
    if (h.lapsed) {
      // too late for an order, unless its payment already came in: then it is a paid order now
      if (this.endActiveHold(h, 'expired') === 'converted') return { ok: true, created: true, order: this.orderView(seq)!, changes };
      return refused(ReplyCode.HoldExpired);
    }
    const o = this.convert(h, lapsed);
    this.orderQueue.push(seq);
    this.applyDeferred(seq, o);
    return { ok: true, created: true, order: this.orderView(seq)!, changes };
  }

  /** The content that makes two deliveries of one event id the same event. */
  static fingerprint(e: Pick<PaymentEvent, 'seq' | 'kind' | 'amount'>): string {
    return JSON.stringify([e.kind, e.seq, e.amount, CURRENCY]);
  }

  pay(id: string, seq: number, kind: PaymentKind, amount: number): PaymentAnswer {
    const changes = this.begin();
    const known = this.events.get(id);
    if (known) {
      if (SaleModel.fingerprint(known) !== SaleModel.fingerprint({ seq, kind, amount })) return refused(ReplyCode.EventReused);
      if (known.result === 'amount_mismatch') return this.mismatch(seq);
      return { ok: true, result: 'duplicate', order: this.orderView(seq), changes };
    }
    const h = this.hold(seq);
    const event = { id, seq, kind, amount };
    if (amount !== h.qty * this.params.price) {
      this.saveEvent({ ...event, result: 'amount_mismatch' });
      return this.mismatch(seq);
    }
    if (!this.orders.has(seq) && h.status === 'active' && h.lapsed) this.endActiveHold(h, 'expired');
    const o = this.orders.get(seq);
    let result: PaymentResult;
    if (o) {
      result = this.applyOutcome(seq, o, kind);
    } else if (h.status === 'active') {
      // no order yet: kept for the conversion; the first success stays, a success replaces a failure
      const earlier = this.deferred.get(seq);
      if (earlier !== undefined && (this.events.get(earlier)!.kind === 'succeeded' || kind === 'failed')) {
        result = 'ignored';
      } else {
        if (earlier !== undefined) this.ignoreEvent(earlier);
        this.deferred.set(seq, id);
        result = 'deferred';
      }
    } else if (kind === 'succeeded') {
      // paid for a hold that ended without an order: an order for it, sold again or refunded
      const late = this.newOrder(h, true);
      this.reReserve(late);
      this.saveOrder(seq, late);
      result = 'applied';
    } else {
      result = 'ignored';
    }
    this.saveEvent({ ...event, result });
    return { ok: true, result, order: this.orderView(seq), changes };
  }

  private mismatch(seq: number): Refusal {
    return { ok: false, code: ReplyCode.AmountMismatch, expectedTotal: this.hold(seq).qty * this.params.price, expectedCurrency: CURRENCY };
  }

  /** The expiry sweep: overdue holds, then overdue unpaid orders, each walk in creation order. */
  sweep(): SweepAnswer {
    const holdChanges = this.begin();
    let expiredHolds = 0;
    for (const seq of takeLapsed(this.holdQueue, (seq) => this.hold(seq).lapsed)) {
      const h = this.hold(seq);
      if (h.status === 'active' && this.endActiveHold(h, 'expired') === 'expired') expiredHolds++;
    }
    const orderChanges = this.begin();
    let expiredOrders = 0;
    for (const seq of takeLapsed(this.orderQueue, (seq) => this.orders.get(seq)!.lapsed)) {
      const o = this.orders.get(seq)!;
      if (o.status === 'pending_payment') {
        o.status = 'expired';
        this.saveOrder(seq, o);
        expiredOrders++;
      }
    }
    return {
      holds: { expired: expiredHolds, more: false, changes: holdChanges },
      orders: { expired: expiredOrders, more: false, changes: orderChanges },
    };
  }

  snapshot(): Snapshot {
    const { held, pending, sold } = this.committed();
    const users = [...new Set(this.holds.map((h) => h.user))].sort();
    const used = Object.fromEntries(users.map((u) => [u, this.used(u)]).filter(([, n]) => n !== 0));
    const orderSeqs = [...this.orders.keys()].map(String);
    return {
      counters: { total: this.params.total, available: this.available, held, pending, sold },
      holds: Object.fromEntries(this.holds.map((h) => [String(h.seq), { status: h.status, user: h.user, qty: h.qty }])),
      orders: Object.fromEntries(orderSeqs.map((seq) => [seq, this.orderView(Number(seq))!])),
      used,
      events: Object.fromEntries([...this.events.values()].map((e) => [e.id, e.result])),
      deferred: Object.fromEntries([...this.deferred].map(([seq, id]) => [String(seq), id])),
      outbox: { orders: orderSeqs.sort(), events: [...this.events.keys()].sort() },
    };
  }
}
