import type { Logger } from 'pino';
import type { Hold as HoldView } from '../contract.js';
import { AppError } from '../errors.js';
import { commands, type HoldRequest } from '../redis/commands.js';
import { formatId, parseId, type ProductKeys } from '../redis/keys.js';
import { decode, ReplyCode, SOLD_OUT, type Refusal } from '../redis/replies.js';
import { callGroupOf, type EngineContext } from './context.js';
import { HoldBatches, type ProductPlaced, type ProductRequests } from './hold-batches.js';
import { NO_OBSERVER, type EngineObserver } from './observer.js';
import { parseHold, type HoldRecord } from './records.js';
import type { ProductGate } from './recovery.js';
import { notAdmitted, toDomainError } from './refusals.js';

/** A hold request's answer: a refusal is returned, not thrown, so that the stampede's common answer costs no exception. */
export type HoldAnswer = { ok: true; hold: HoldView; replayed: boolean } | { ok: false; error: AppError };

/** How long this process answers "sold out" for a product without asking Redis. */
export const SOLD_OUT_FLAG_MS = 100;

/** The answer while a product is sold out: one instance, nothing in it is per request. */
const SOLD_OUT_ANSWER: { ok: false; error: AppError } = { ok: false, error: toDomainError(SOLD_OUT) };

/**
 * `new Date(ms).toISOString()` that remembers its last answer: holds placed in one script call share
 * their created and expiry times, and formatting dates is a measurable share of answering a hold.
 */
function isoMemo(): (ms: number) => string {
  let lastMs = NaN;
  let lastIso = '';
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  };
}
const createdIso = isoMemo();
const expiresIso = isoMemo();

export function holdView(productId: string, seq: string, h: Pick<HoldRecord, 'status' | 'qty' | 'createdAt' | 'expiresAt' | 'userId'>): HoldView {
  return {
    id: formatId('h', { productId, seq }),
    product_id: productId,
    user_id: h.userId,
    qty: h.qty,
    status: h.status,
    created_at: createdIso(h.createdAt),
    expires_at: expiresIso(h.expiresAt),
  };
}

/**
 * The hold decision: the sold-out shortcut, placing in Redis (in group-committed calls) a product
 * checked against Postgres, loading a product Redis lacks and trying again, scheduling the expiry of what a call placed, and reporting
 * every outcome to the observer.
 */
export class Holds {
  /** product id -> time until which it is known to be sold out (per process, short-lived) */
  private readonly soldOutUntil = new Map<string, number>();
  /** products with hold requests since the status was last read (src/http/live/engine-status.ts) */
  private active = new Set<string>();
  private readonly batches: HoldBatches;
  observer: EngineObserver = NO_OBSERVER;

  constructor(
    private readonly ctx: EngineContext,
    /** checks a product against Postgres before this process first serves it (and rebuilds a Redis record that is behind) */
    private readonly gate: ProductGate,
    /** a customer's place in a waiting room, for the answer to a hold refused for want of admission */
    private readonly positionOf: (productId: string, userId: string) => Promise<number | null>,
    /** ends the product's holds whose time is up, as an expiry job does */
    private readonly expireDue: (productId: string) => Promise<unknown>,
  ) {
    this.batches = new HoldBatches((products) => this.placeBatch(products), callGroupOf(ctx));
  }

  /**
   * True for a little while after Redis answered that the product has no stock left: requests are then
   * answered sold out without asking Redis. Never for a keyed request: the shortcut must not turn a
   * replay of a won hold into a 409.
   */
  knownSoldOut(productId: string, idempotencyKey: string | undefined): boolean {
    return idempotencyKey === undefined && (this.soldOutUntil.get(productId) ?? 0) > Date.now();
  }

  /**
   * Places a hold (or replays the key's earlier one). A product known to be sold out is answered at
   * once, without a promise: that is most of a stampede's requests.
   */
  place(userId: string, productId: string, qty: number, idempotencyKey?: string): HoldAnswer | Promise<HoldAnswer> {
    this.active.add(productId);
    if (this.knownSoldOut(productId, idempotencyKey)) {
      this.observer.holdRefused(SOLD_OUT_ANSWER.error.code);
      return SOLD_OUT_ANSWER;
    }
    return this.placeInRedis(userId, productId, qty, idempotencyKey ?? '');
  }

  private async placeInRedis(userId: string, productId: string, qty: number, idempotencyKey: string): Promise<HoldAnswer> {
    let outcome = await this.batches.place(productId, userId, qty, idempotencyKey);
    if (outcome.code === ReplyCode.ProductNotFound && (await this.gate.ensure(productId))) {
      outcome = await this.batches.place(productId, userId, qty, idempotencyKey);
    }
    if (outcome.code === ReplyCode.NotAdmitted) return this.notAdmitted(productId, userId);
    if (!outcome.ok) return this.refused(productId, outcome);
    const replayed = outcome.code === ReplyCode.Repeated;
    if (!replayed) this.observer.holdPlaced();
    const { seq, createdAt, expiresAt } = outcome;
    return { ok: true, hold: holdView(productId, String(seq), { status: 'active', qty, createdAt, expiresAt, userId }), replayed };
  }

  private refused(productId: string, refusal: Refusal): HoldAnswer {
    if (refusal === SOLD_OUT) {
      this.soldOutUntil.set(productId, Date.now() + SOLD_OUT_FLAG_MS);
      this.observer.holdRefused(SOLD_OUT_ANSWER.error.code);
      return SOLD_OUT_ANSWER;
    }
    const error = toDomainError(refusal);
    this.observer.holdRefused(error.code);
    return { ok: false, error };
  }

  private async notAdmitted(productId: string, userId: string): Promise<HoldAnswer> {
    const error = notAdmitted(await this.positionOf(productId, userId));
    this.observer.holdRefused(error.code);
    return { ok: false, error };
  }

  /**
   * One script call for requests that arrived together, on one or more products of one slot; the holds
   * it places on a product share one expiry job.
   */
  private async placeBatch(products: readonly ProductRequests[]): Promise<ProductPlaced[]> {
    const { redis, keys, config, jobs, durability } = this.ctx;
    // per call, as it is sent: a connection lost while the requests waited may have come back to an
    // older Redis; a product that cannot be checked now fails alone, the others are placed
    const placed: ProductPlaced[] = new Array(products.length);
    const ready: { index: number; productId: string; keys: ProductKeys; requests: readonly HoldRequest[] }[] = [];
    const unchecked: Promise<void>[] = [];
    products.forEach(({ productId, requests }, index) => {
      const part = { index, productId, keys: keys.product(productId), requests };
      if (this.gate.checked(productId)) ready.push(part);
      else unchecked.push(this.gate.ensure(productId).then(() => void ready.push(part), (err: unknown) => void (placed[index] = { failed: err })));
    });
    if (unchecked.length > 0) await Promise.all(unchecked);
    if (ready.length === 0) return placed;
    const reply = await commands.createHolds(redis, ready, config.HOLD_TTL_MS, Date.now());
    const parts = decode.createHolds(reply, ready.map((r) => r.requests.length));
    for (let i = 0; i < ready.length; i++) {
      const { index, productId } = ready[i]!;
      const part = parts[i]!;
      if (part.expiresAt > 0) jobs.expireAt('expire-holds', productId, part.expiresAt);
      if (part.notices > 0) jobs.persistSoon(productId);
      placed[index] = part.outcomes;
    }
    // one wait for the whole call: every hold of the batch is answered only once replicas have it
    if (durability.waitsForReplicas) await durability.confirm(ready[0]!.keys.product);
    return placed;
  }

  /** The products with hold requests since the last call, in the order of their first request. */
  takeActive(): Set<string> {
    const active = this.active;
    this.active = new Set();
    return active;
  }

  /** A customer's own hold; another user's hold is reported as not found. */
  async get(holdId: string, userId: string): Promise<HoldView> {
    const ref = parseId('h', holdId);
    if (!ref) throw new AppError('hold_not_found');
    const read = async () => {
      const rec = await this.ctx.redis.hget(this.ctx.keys.product(ref.productId).holds, ref.seq);
      const h = rec ? parseHold(rec) : null;
      if (!h || h.userId !== userId) throw new AppError('hold_not_found');
      return h;
    };
    let h = await read();
    // a hold whose time is up is not shown active until its expiry job comes (late, or no worker running):
    // it is ended now, as the job would end it (expired, or converted by a payment that came first)
    if (h.status === 'active' && h.expiresAt <= Date.now()) {
      await this.expireDue(ref.productId);
      h = await read();
    }
    return holdView(ref.productId, ref.seq, h);
  }

  /** Releases a hold (stock back at once). `userId` null = an operator releasing anyone's hold. */
  async release(holdId: string, userId: string | null, log: Logger = this.ctx.logger): Promise<HoldView> {
    const ref = parseId('h', holdId);
    if (!ref) throw new AppError('hold_not_found');
    const k = this.ctx.keys.product(ref.productId);
    const reply = decode.releaseHold(await commands.releaseHold(this.ctx.redis, k, ref.seq, userId ?? ''));
    try {
      if (!reply.ok) throw toDomainError(reply);
      if (reply.code === ReplyCode.Done) {
        log.info({ holdId, by: userId ?? 'operator' }, 'hold released');
        if (reply.notices > 0) this.ctx.jobs.persistSoon(ref.productId);
      }
      return holdView(ref.productId, ref.seq, reply.hold);
    } finally {
      // after the bookkeeping of what the call did; an unconfirmed write replaces the answer
      if (this.ctx.durability.waitsForReplicas) await this.ctx.durability.confirm(k.product);
    }
  }
}
