import type { Hold as HoldView } from '../contract.js';
import { AppError } from '../errors.js';
import { commands } from '../redis/commands.js';
import { formatId, parseId } from '../redis/keys.js';
import type { EngineContext } from './context.js';
import { HoldBatches } from './hold-batches.js';
import { parseHold, type HoldRecord } from './records.js';
import { ScriptCode, toDomainError } from './script-codes.js';

export type { HoldView };

export interface CreatedHold {
  hold: HoldView;
  replayed: boolean;
}

/** How long this process answers "sold out" for a product without asking Redis. */
const SOLD_OUT_FLAG_MS = 100;

/** The answer while a product is known to be sold out (one instance: nothing in it is per request). */
export const SOLD_OUT = toDomainError([ScriptCode.InsufficientStock, 0]);

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

export class Holds {
  /** product id -> time until which it is known to be sold out (per process, short-lived) */
  private readonly soldOutUntil = new Map<string, number>();
  private readonly batches: HoldBatches;

  constructor(
    private readonly ctx: EngineContext,
    /** loads a product Redis lacks (after a Redis restart) from Postgres; false if it does not exist */
    private readonly loadProduct: (productId: string) => Promise<boolean>,
  ) {
    this.batches = new HoldBatches(ctx);
  }

  /**
   * True for a little while after Redis answered that the product has no stock left: the caller may
   * then answer `SOLD_OUT` without asking Redis. Never for a keyed request: the shortcut must not turn
   * a replay of a won hold into a 409.
   */
  knownSoldOut(productId: string, idempotencyKey: string | undefined): boolean {
    return idempotencyKey === undefined && (this.soldOutUntil.get(productId) ?? 0) > Date.now();
  }

  /** Places a hold (or replays the key's earlier one). Callers check `knownSoldOut` first. */
  async create(userId: string, productId: string, qty: number, idempotencyKey?: string): Promise<CreatedHold> {
    const request = { userId, qty, idempotencyKey: idempotencyKey ?? '' };
    let reply = await this.batches.place(productId, request);
    if (reply[0] === ScriptCode.ProductNotFound && (await this.loadProduct(productId))) reply = await this.batches.place(productId, request);
    const code = reply[0] as number;
    if (code < 0) {
      if (code === ScriptCode.InsufficientStock && reply[1] === 0) this.soldOutUntil.set(productId, Date.now() + SOLD_OUT_FLAG_MS);
      throw toDomainError(reply);
    }
    const [, seq, createdAt, expiresAt] = reply as [number, string | number, number, number];
    return {
      hold: holdView(productId, String(seq), { status: 'active', qty, createdAt, expiresAt, userId }),
      replayed: code === 2,
    };
  }

  /** A customer's own hold; another user's hold is reported as not found. */
  async get(holdId: string, userId: string): Promise<HoldView> {
    const ref = parseId('h', holdId);
    if (!ref) throw new AppError('hold_not_found');
    const rec = await this.ctx.redis.hget(this.ctx.keys.product(ref.productId).holds, ref.seq);
    const h = rec ? parseHold(rec) : null;
    if (!h || h.userId !== userId) throw new AppError('hold_not_found');
    return holdView(ref.productId, ref.seq, h);
  }

  /** Releases a hold (stock back at once). `userId` null = an operator releasing anyone's hold. */
  async release(holdId: string, userId: string | null): Promise<HoldView> {
    const ref = parseId('h', holdId);
    if (!ref) throw new AppError('hold_not_found');
    const reply = await commands.releaseHold(this.ctx.redis, this.ctx.keys.product(ref.productId), ref.seq, userId ?? '');
    if ((reply[0] as number) < 0) throw toDomainError(reply);
    if (reply[0] === 1) this.ctx.logger.info({ holdId, by: userId ?? 'operator' }, 'hold released');
    return holdView(ref.productId, ref.seq, parseHold(String(reply[1])));
  }
}
