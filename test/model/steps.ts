import fc from 'fast-check';
import { expect } from 'vitest';
import type { OrderRecord } from '../../src/engine/records.js';
import { ReplyCode, type OrderCreated, type PaymentApplied } from '../../src/redis/replies.js';
import { checkInvariants, checkLimit } from './invariants.js';
import { SaleModel, type HoldRequest, type PaymentEvent, type PaymentKind, type Snapshot } from './model.js';
import { LIFETIME_MS, type Sale } from './sale.js';

/**
 * The steps a random sequence is made of. Each one runs on Redis through the scripts, then on the model,
 * and checks the answer against the model's, SPEC's invariants on the state read back, and that state
 * against the model's. A step that names a hold or an event picks one by `ref` among those the run has
 * made so far; the printed sequence shows which (h3 = the third hold placed).
 */

export interface Real {
  sale: Sale;
  /** the state after the previous step */
  before: Snapshot | undefined;
}

const USERS = ['a', 'b', 'c'];

abstract class Step implements fc.AsyncCommand<SaleModel, Real> {
  /** what the last run resolved `ref` to, for the printed sequence (fast-check clones a step per run) */
  protected shown = '';

  abstract check(m: Readonly<SaleModel>): boolean;

  /** Runs the step on Redis and on the model, checks the answer; returns the users it placed holds for. */
  protected abstract act(m: SaleModel, sale: Sale): Promise<string[] | void>;

  protected abstract label(): string;

  async run(m: SaleModel, r: Real): Promise<void> {
    const placedFor = (await this.act(m, r.sale)) ?? [];
    const s = await r.sale.snapshot();
    checkInvariants(s, r.before, m.params);
    checkLimit(s, placedFor, m.params);
    expect(s, `Redis state after ${this.toString()}`).toEqual(m.snapshot());
    r.before = s;
  }

  toString(): string {
    return this.label() + this.shown;
  }

  [fc.cloneMethod](): this {
    return Object.assign(Object.create(Object.getPrototypeOf(this) as object) as this, this, { shown: '' });
  }
}

/** The hold a step refers to: one of those placed so far. */
function pickHold(m: SaleModel, ref: number) {
  return m.hold((ref % m.holds.length) + 1);
}

const orderView = (o: OrderRecord) => ({ status: o.status, user: o.user, qty: o.qty, total: o.total });
const orderAnswer = (a: OrderCreated) => (a.ok ? { ...a, order: orderView(a.order) } : a);

/** Places holds on Redis and on the model, checks the answers; returns the holds placed. */
async function placeHolds(m: SaleModel, sale: Sale, requests: HoldRequest[], ttlMs: number, step: Step) {
  const { outcomes } = await sale.placeHolds(requests, ttlMs);
  // the call's time, which Redis gave every hold it placed
  const at = outcomes.find((o) => o.ok && o.code === ReplyCode.Done);
  const times = at?.ok ? { createdAt: at.createdAt, expiresAt: at.expiresAt } : { createdAt: 0, expiresAt: 0 };
  const expected = requests.map((q) => m.placeHold(q, ttlMs === LIFETIME_MS.lapsed, times));
  expect(outcomes, `answer to ${step.toString()}`).toEqual(expected);
  return expected.flatMap((o) => (o.ok && o.code === ReplyCode.Done ? [m.hold(o.seq)] : []));
}

const newEventId = (m: SaleModel) => `ev${m.events.size + 1}`;

type Payment = Pick<PaymentEvent, 'id' | 'seq' | 'kind' | 'amount'>;

function expectPayment(m: SaleModel, answer: PaymentApplied, e: Payment, step: Step) {
  const actual = answer.ok ? { ...answer, order: answer.order && orderView(answer.order) } : answer;
  expect(actual, `answer to ${step.toString()}`).toEqual(m.pay(e.id, e.seq, e.kind, e.amount));
}

/** A payment event on Redis and on the model; checks the answer. */
async function pay(m: SaleModel, sale: Sale, e: Payment, step: Step) {
  expectPayment(m, await sale.pay(e.id, e.seq, e.kind, e.amount), e, step);
}

class PlaceHolds extends Step {
  constructor(
    readonly requests: HoldRequest[],
    readonly lapsed: boolean,
  ) {
    super();
  }

  check() {
    return true;
  }

  protected label() {
    const requests = this.requests.map((q) => `${q.user}×${q.qty}${q.key && ` ${q.key}`}`).join(', ');
    return `hold(${requests})${this.lapsed ? ' lapsed' : ''}`;
  }

  protected async act(m: SaleModel, sale: Sale) {
    const placed = await placeHolds(m, sale, this.requests, this.lapsed ? LIFETIME_MS.lapsed : LIFETIME_MS.long, this);
    if (this.lapsed && placed.length > 0) await sale.waitPast(placed[0]!.expiresAt);
    return placed.map((h) => h.user);
  }
}

/** The same key again: same qty (the same hold back) or another qty (refused). */
class Replay extends Step {
  constructor(
    readonly ref: number,
    readonly otherQty: boolean,
  ) {
    super();
  }

  check(m: Readonly<SaleModel>) {
    return m.keyed.size > 0;
  }

  protected label() {
    return `replay(${this.otherQty ? 'other qty' : 'same qty'})`;
  }

  protected async act(m: SaleModel, sale: Sale) {
    const seqs = [...m.keyed.values()];
    const h = m.hold(seqs[this.ref % seqs.length]!);
    const request = { user: h.user, key: h.key, qty: this.otherQty ? (h.qty % 3) + 1 : h.qty };
    this.shown = ` of h${h.seq}: ${request.user}×${request.qty} ${request.key}`;
    await placeHolds(m, sale, [request], LIFETIME_MS.long, this);
  }
}

class Release extends Step {
  constructor(
    readonly ref: number,
    readonly byOther: boolean,
  ) {
    super();
  }

  check(m: Readonly<SaleModel>) {
    return m.holds.length > 0;
  }

  protected label() {
    return `release${this.byOther ? ' by another user' : ''}`;
  }

  protected async act(m: SaleModel, sale: Sale) {
    const h = pickHold(m, this.ref);
    const user = this.byOther ? USERS[(USERS.indexOf(h.user) + 1) % USERS.length]! : h.user;
    this.shown = `(h${h.seq})`;
    expect(await sale.release(h.seq, user), `answer to ${this.toString()}`).toEqual(m.release(h.seq, user));
  }
}

class Convert extends Step {
  constructor(
    readonly ref: number,
    readonly lapsed: boolean,
  ) {
    super();
  }

  check(m: Readonly<SaleModel>) {
    return m.holds.length > 0;
  }

  protected label() {
    return `order${this.lapsed ? ' lapsed' : ''}`;
  }

  protected async act(m: SaleModel, sale: Sale) {
    const h = pickHold(m, this.ref);
    this.shown = `(h${h.seq})`;
    const created = await sale.createOrder(h.seq, h.user, this.lapsed ? LIFETIME_MS.lapsed : LIFETIME_MS.long);
    expect(orderAnswer(created), `answer to ${this.toString()}`).toEqual(m.createOrder(h.seq, h.user, this.lapsed));
    if (this.lapsed && created.ok && created.created) await sale.waitPast(created.order.due);
  }
}

/** A payment event for a hold (its order, if it has one), with a new event id. */
class Pay extends Step {
  constructor(
    readonly ref: number,
    readonly kind: PaymentKind,
    readonly wrongAmount: boolean,
  ) {
    super();
  }

  check(m: Readonly<SaleModel>) {
    return m.holds.length > 0;
  }

  protected label() {
    return `payment.${this.kind}${this.wrongAmount ? ' wrong amount' : ''}`;
  }

  protected async act(m: SaleModel, sale: Sale) {
    const h = pickHold(m, this.ref);
    const id = newEventId(m);
    this.shown = `(h${h.seq}, ${id})`;
    await pay(m, sale, { id, seq: h.seq, kind: this.kind, amount: h.qty * m.params.price + (this.wrongAmount ? 1 : 0) }, this);
  }
}

/**
 * A hold paid for before its order is requested (a success or a failure), whose deadline then passes:
 * the payment waits for an order that comes too late or never.
 */
class PaidEarly extends Step {
  constructor(
    readonly request: HoldRequest,
    readonly kind: PaymentKind,
  ) {
    super();
  }

  check() {
    return true;
  }

  protected label() {
    return `hold(${this.request.user}×${this.request.qty}) with payment.${this.kind} before its order, lapsed`;
  }

  protected async act(m: SaleModel, sale: Sale) {
    const [h] = await placeHolds(m, sale, [this.request], LIFETIME_MS.brief, this);
    if (!h) return;
    const id = newEventId(m);
    this.shown = ` (h${h.seq}, ${id})`;
    const answer = await sale.pay(id, h.seq, this.kind, h.qty * m.params.price);
    // a machine stalled past the brief deadline makes the step something else: not a failure, not a run
    fc.pre((await sale.now()) < h.expiresAt);
    expectPayment(m, answer, { id, seq: h.seq, kind: this.kind, amount: h.qty * m.params.price }, this);
    await sale.waitPast(h.expiresAt);
    m.lapse(h.seq);
    return [h.user];
  }
}

/** An event id delivered again: the same event (a retry), or another body under the same id. */
class Redeliver extends Step {
  constructor(
    readonly ref: number,
    readonly sameBody: boolean,
  ) {
    super();
  }

  check(m: Readonly<SaleModel>) {
    return m.events.size > 0;
  }

  protected label() {
    return `redeliver${this.sameBody ? '' : ' with another body'}`;
  }

  protected async act(m: SaleModel, sale: Sale) {
    const events = [...m.events.values()];
    const e: PaymentEvent = events[this.ref % events.length]!;
    const kind: PaymentKind = this.sameBody ? e.kind : e.kind === 'succeeded' ? 'failed' : 'succeeded';
    this.shown = `(${e.id}: h${e.seq} ${kind})`;
    await pay(m, sale, { id: e.id, seq: e.seq, kind, amount: e.amount }, this);
  }
}

/** What the expiry jobs and the periodic sweep do: overdue holds, then overdue unpaid orders. */
class Sweep extends Step {
  check() {
    return true;
  }

  protected label() {
    return 'sweep';
  }

  protected async act(m: SaleModel, sale: Sale) {
    expect(await sale.sweep(), `answer to ${this.toString()}`).toEqual(m.sweep());
  }
}

/** redis-server killed and restarted from its AOF: every acknowledged step must still be there. */
class Crash extends Step {
  check() {
    return true;
  }

  protected label() {
    return 'crash redis';
  }

  protected async act(_: SaleModel, sale: Sale) {
    await sale.crash();
  }
}

/** true about one time in `n`; shrinks to false */
const oneIn = (n: number) => fc.integer({ min: 1, max: n }).map((i) => i === n);
const ref = fc.nat({ max: 999 });
const paymentKind = fc.constantFrom<PaymentKind>('succeeded', 'failed');
const holdRequest = fc.record({
  user: fc.constantFrom(...USERS),
  qty: fc.integer({ min: 1, max: 3 }),
  key: fc.constantFrom('', 'k1', 'k2'),
});

/** A sequence of steps; hold placing and the order and payment steps come most often. */
export function steps(maxCommands: number) {
  const step = fc.oneof(
    { weight: 10, arbitrary: fc.tuple(fc.array(holdRequest, { minLength: 1, maxLength: 2 }), oneIn(3)).map(([q, lapsed]) => new PlaceHolds(q, lapsed)) },
    { weight: 3, arbitrary: fc.tuple(ref, oneIn(2)).map(([r, other]) => new Replay(r, other)) },
    { weight: 4, arbitrary: fc.tuple(ref, oneIn(6)).map(([r, other]) => new Release(r, other)) },
    { weight: 6, arbitrary: fc.tuple(ref, oneIn(3)).map(([r, lapsed]) => new Convert(r, lapsed)) },
    {
      weight: 6,
      arbitrary: fc.tuple(ref, paymentKind, oneIn(8)).map(([r, kind, wrong]) => new Pay(r, kind, wrong)),
    },
    { weight: 2, arbitrary: fc.tuple(holdRequest, paymentKind).map(([q, kind]) => new PaidEarly({ ...q, key: '' }, kind)) },
    { weight: 3, arbitrary: fc.tuple(ref, oneIn(3)).map(([r, other]) => new Redeliver(r, !other)) },
    { weight: 3, arbitrary: fc.constant(null).map(() => new Sweep()) },
    { weight: 1, arbitrary: fc.constant(null).map(() => new Crash()) },
  );
  return fc.commands([step], { maxCommands, size: 'max' });
}
