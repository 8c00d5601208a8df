import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { signJwt } from '../../src/http/jwt.js';
import { signPayload } from '../../src/http/webhook-signature.js';
import type { EngineProcess } from '../../src/tools/engine-process.js';
import { Ledger } from './ledger.js';
import { paidUnits, waitForPaidOrders } from './postgres-check.js';

const REQUEST_TIMEOUT_MS = 5_000;
/** Pause of a customer after an answer that was not a success (Redis away): no busy loop against a 503. */
const BACKOFF_MS = 50;
const VERIFY_CONCURRENCY = 16;
const PERSIST_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const chance = (p: number) => Math.random() < p;

async function inBatches(tasks: (() => Promise<void>)[]): Promise<void> {
  for (let i = 0; i < tasks.length; i += VERIFY_CONCURRENCY) await Promise.all(tasks.slice(i, i + VERIFY_CONCURRENCY).map((t) => t()));
}

interface Acked {
  id: string;
  token: string;
}

/** A request the customer or the payment provider may send again, and what its first answer was. */
interface Sent extends Acked {
  productId: string;
  /** the hold's Idempotency-Key, the order's hold id, the payment's signed body */
  by: string;
}

type Answer = { status: number; body: Record<string, unknown> } | null;

/** Each product's sold units as the engine counts them, and what was wrong with reading them. */
interface StockRead {
  sold: Map<string, number>;
  problems: string[];
}

/**
 * Mixed load on an engine (holds with and without an Idempotency-Key, orders, payment webhooks some
 * delivered twice) that writes down every write the engine acknowledged, and afterwards checks that
 * each one is still there: the hold exists (with its status or its successor's), the order exists, a
 * payment acknowledged as applied left its order paid, every product's stock adds up, and what Redis
 * counts as sold is what Postgres has paid.
 */
export class AcknowledgedWrites {
  private readonly holds: Acked[] = [];
  private readonly orders: Acked[] = [];
  /** orders whose `payment.succeeded` the engine acknowledged */
  private readonly paid = new Map<string, Acked>();
  /** paid orders as the customers saw them, against Postgres (each payment sent counts as possibly applied) */
  private readonly ledger = new Ledger();
  private readonly tag = randomBytes(4).toString('hex');
  private users = 0;
  private stopped = false;
  /** replays of a key that answered another hold than the first answer */
  private readonly replayMismatches: string[] = [];
  /** hold or order id -> the customer it was acknowledged to: an id answered to two customers was handed out twice */
  private readonly owners = new Map<string, string>();
  private readonly reissued: string[] = [];
  /** acknowledged holds placed with an Idempotency-Key, acknowledged orders, payments sent (answered or not) */
  private readonly keyedHolds: Sent[] = [];
  private readonly conversions: Sent[] = [];
  private readonly payments: Sent[] = [];

  constructor(
    private readonly engine: Pick<EngineProcess, 'url' | 'jwtSecret' | 'webhookSecret' | 'adminToken' | 'databaseUrl'>,
    private readonly productIds: string[],
  ) {}

  /** Acknowledged writes so far. */
  get acknowledged(): number {
    return this.holds.length + this.orders.length + this.paid.size;
  }

  /** Runs `customers` concurrent customers until `stop()`. */
  async run(customers: number): Promise<void> {
    this.stopped = false;
    await Promise.all(Array.from({ length: customers }, () => this.customer()));
  }

  stop(): void {
    this.stopped = true;
  }

  private async customer(): Promise<void> {
    while (!this.stopped) {
      if (!(await this.flow())) await sleep(BACKOFF_MS);
    }
  }

  /** One customer's hold, maybe its order and payment; false when something was not answered with a success. */
  private async flow(): Promise<boolean> {
    const token = signJwt(this.engine.jwtSecret, { sub: `ack-${this.tag}-${++this.users}`, exp: Math.floor(Date.now() / 1000) + 3600 });
    const productId = this.productIds[this.users % this.productIds.length]!;
    const key = chance(0.5) ? `k-${randomBytes(6).toString('hex')}` : undefined;
    const holdAnswer = await this.placeHold(token, productId, key);
    if (!holdAnswer) return false;
    const holdId = holdAnswer.id;
    if (key) this.keyedHolds.push({ ...holdAnswer, productId, by: key });
    if (key && chance(0.3)) {
      const replay = await this.placeHold(token, productId, key);
      if (replay && replay.id !== holdId) this.replayMismatches.push(`${key}: ${holdId} then ${replay.id}`);
    }
    if (chance(0.4)) return true;
    const order = await this.call('POST', '/api/orders', { token, body: { hold_id: holdId } });
    if (order?.status !== 201 && order?.status !== 200) return false;
    const orderId = String(order.body.id);
    this.own(orderId, token);
    this.orders.push({ id: orderId, token });
    this.conversions.push({ id: orderId, token, productId, by: holdId });
    if (chance(0.3)) return true;
    this.ledger.paymentAccepted(holdId);
    const raw = JSON.stringify({ event_id: `evt-${randomBytes(8).toString('hex')}`, type: 'payment.succeeded', hold_id: holdId, amount_minor: Number(order.body.total_minor), currency: order.body.currency });
    const payment = { id: orderId, token, productId, by: raw };
    this.payments.push(payment);
    for (let delivery = 0; delivery < (chance(0.3) ? 2 : 1); delivery++) {
      if (!(await this.deliver(payment))) return false;
    }
    return true;
  }

  /** One delivery of a payment webhook; false unless answered 200. */
  private async deliver(payment: Sent): Promise<boolean> {
    const paid = await this.call('POST', '/api/webhooks/payment', { body: payment.by, headers: { 'payment-signature': signPayload(this.engine.webhookSecret, payment.by) } });
    if (paid?.status !== 200) return false;
    if (paid.body.order_status === 'paid') {
      this.paid.set(payment.id, { id: payment.id, token: payment.token });
      this.ledger.settled({ id: payment.id, productId: payment.productId, qty: 1, token: payment.token }, 'paid');
    }
    return true;
  }

  /**
   * What customers and the payment provider send again after a fault: every acknowledged keyed hold with
   * its key, every acknowledged order's hold converted again, every payment (answered or not) delivered
   * again. Each must answer what the first answer did (the same hold, the same order) and leave the order
   * paid; problems as readable lines (empty: none). Call after `stop()`, before `verify()`.
   */
  async retry(): Promise<string[]> {
    const problems: string[] = [];
    const same = (what: string, sent: Sent) => (res: Answer) => {
      if (res?.body.id !== sent.id) problems.push(`${what} ${sent.by} answered ${res ? `${res.status} ${JSON.stringify(res.body)}` : 'nothing'} instead of ${sent.id}`);
    };
    await inBatches([
      ...this.keyedHolds.map((h) => async () => same('Idempotency-Key', h)(await this.call('POST', '/api/holds', { token: h.token, body: { product_id: h.productId, qty: 1 }, headers: { 'idempotency-key': h.by } }))),
      ...this.conversions.map((o) => async () => same('hold', o)(await this.call('POST', '/api/orders', { token: o.token, body: { hold_id: o.by } }))),
      ...this.payments.map((p) => async () => {
        if (!(await this.deliver(p)) || !this.paid.has(p.id)) problems.push(`payment of ${p.id} sent again: not answered with its order paid`);
      }),
    ]);
    return problems;
  }

  /** Rows Postgres has twice: two orders for one hold, one hold's payment applied twice, two inbox rows for one payment. */
  async duplicates(): Promise<string[]> {
    const sql = postgres(this.engine.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      // each payment here has one event_id, so a hold has at most one inbox row and one applied event
      const rows = await sql<{ what: string; hold_id: string; n: number }[]>`
        SELECT 'orders' AS what, hold_id, count(*)::int AS n FROM orders GROUP BY hold_id HAVING count(*) > 1
        UNION ALL SELECT 'applied payment_events', hold_id, count(*)::int FROM payment_events WHERE result = 'applied' GROUP BY hold_id HAVING count(*) > 1
        UNION ALL SELECT 'payment_inbox', hold_id, count(*)::int FROM payment_inbox GROUP BY hold_id HAVING count(*) > 1`;
      return rows.map((r) => `${r.n} ${r.what} rows for ${r.hold_id}`);
    } finally {
      await sql.end();
    }
  }

  private async placeHold(token: string, productId: string, key: string | undefined): Promise<Acked | null> {
    const res = await this.call('POST', '/api/holds', { token, body: { product_id: productId, qty: 1 }, headers: key ? { 'idempotency-key': key } : {} });
    if (res?.status !== 201) return null;
    const hold = { id: String(res.body.id), token };
    this.own(hold.id, token);
    this.holds.push(hold);
    return hold;
  }

  private own(id: string, token: string): void {
    const owner = this.owners.get(id);
    if (owner === undefined) this.owners.set(id, token);
    else if (owner !== token) this.reissued.push(id);
  }

  private async call(method: string, path: string, opts: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (opts.body !== undefined) headers['content-type'] = 'application/json';
    try {
      const res = await fetch(this.engine.url + path, {
        method,
        headers,
        body: typeof opts.body === 'string' || opts.body === undefined ? opts.body : JSON.stringify(opts.body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: res.status, body: (await res.json()) as Record<string, unknown> };
    } catch {
      return null; // no answer: nothing was acknowledged
    }
  }

  /**
   * Every acknowledged write that is gone, and every invariant broken, as readable lines (empty: none).
   * With `redisLost` (Redis lost writes it had acknowledged, and the engine rebuilt from Postgres), holds
   * and unpaid orders that lived only in Redis may be gone; an acknowledged payment must still have left
   * its order paid, or be in the payments inbox as refund_required; and no id may have gone to two customers.
   */
  async verify({ redisLost = false } = {}): Promise<string[]> {
    // (a key's idempotency record lives in Redis with its hold: when Redis lost both, a replay of the key
    // places a new hold, as a first request would; the replays here follow their hold before any order)
    const problems = redisLost ? [] : this.replayMismatches.map((m) => `an Idempotency-Key answered two holds: ${m}`);
    problems.push(...this.reissued.map((id) => `${id} was answered to two customers`));
    const refunds = redisLost ? await this.refundsRequired() : new Map<string, string>();
    const check = async (what: string, acked: Acked, path: string, ok: (a: NonNullable<Answer>) => boolean) => {
      const res = await this.call('GET', path, { token: acked.token });
      if (!res || !ok(res)) problems.push(`${what} ${acked.id}: ${res ? `${res.status} ${JSON.stringify(res.body)}` : 'no answer'}`);
    };
    const refundRequired = (orderId: string) => refunds.has(orderId.replace(/^o_/, 'h_'));
    const checks = [
      ...(redisLost ? [] : this.holds.map((h) => () => check('acknowledged hold', h, `/api/holds/${h.id}`, (a) => a.status === 200))),
      ...this.orders.map((o) => () => check('acknowledged order', o, `/api/orders/${o.id}`, (a) => a.status === 200 || (redisLost && (!this.paid.has(o.id) || refundRequired(o.id))))),
      ...[...this.paid.values()].map((o) => () => check('order acknowledged paid', o, `/api/orders/${o.id}`, (a) => a.body.status === 'paid' || refundRequired(o.id))),
    ];
    await inBatches(checks);

    // Redis's count is read again on every look at Postgres: a payment that reached the inbox but not
    // Redis before a fault is applied later by the sweep's inbox recovery, raising both
    let stock: StockRead | undefined;
    const pgPaid = await waitForPaidOrders(
      this.engine.databaseUrl,
      this.productIds,
      async (orders) => {
        const now = (stock = await this.stock());
        return this.productIds.every((id) => paidUnits(orders, id) === now.sold.get(id));
      },
      PERSIST_TIMEOUT_MS,
    );
    // (waitForPaidOrders looks at least once)
    const { sold, problems: stockProblems } = stock!;
    problems.push(...stockProblems);
    for (const id of this.productIds) {
      if (paidUnits(pgPaid, id) !== sold.get(id)) problems.push(`product ${id}: Redis counts ${sold.get(id)} sold, Postgres has ${paidUnits(pgPaid, id)} paid units`);
    }
    // a payment whose order Redis lost before Postgres had it is owed back, visibly: it counts as accounted for
    const verdict = this.ledger.accountFor([...pgPaid, ...[...refunds].map(([holdId, orderId]) => ({ id: orderId, hold_id: holdId }))]);
    if (!verdict.ok) problems.push(verdict.detail);
    return problems;
  }

  /** Each product's sold units as the engine counts them, and the products whose stock cannot be read or does not add up. */
  private async stock(): Promise<StockRead> {
    const sold = new Map<string, number>();
    const problems: string[] = [];
    for (const id of this.productIds) {
      const res = await this.call('GET', `/api/admin/products/${id}`, { token: this.engine.adminToken });
      const s = res?.body.stock as Record<'total' | 'available' | 'held' | 'pending_payment' | 'sold', number> | undefined;
      if (!s) problems.push(`product ${id}: ${res?.status ?? 'no answer'}`);
      else if (s.total !== s.available + s.held + s.pending_payment + s.sold) problems.push(`product ${id}: stock does not add up: ${JSON.stringify(s)}`);
      else sold.set(id, s.sold);
    }
    return { sold, problems };
  }

  /** hold id -> order id of the payments the inbox marked refund_required. */
  private async refundsRequired(): Promise<Map<string, string>> {
    const sql = postgres(this.engine.databaseUrl, { max: 1, onnotice: () => {} });
    try {
      const rows = await sql<{ hold_id: string }[]>`SELECT hold_id FROM payment_inbox WHERE result = 'refund_required'`;
      return new Map(rows.map((r) => [r.hold_id, r.hold_id.replace(/^h_/, 'o_')]));
    } finally {
      await sql.end();
    }
  }
}
