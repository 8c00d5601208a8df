import calculateSlot from 'cluster-key-slot';

/**
 * The one place that names Redis keys and public ids.
 *
 * Every key a Lua script touches carries the product's hash tag `{p:<productId>}`, so one script's keys
 * share a Redis Cluster slot. Hold and order ids embed the product id, so any id leads back to its tag.
 */

export const PRODUCT_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Idempotency records live in day buckets; a record is found for at least 24 h after it was written. */
export const IDEMPOTENCY_BUCKET_MS = 24 * 3600_000;

export type RecordKind = 'h' | 'o';

export interface RecordRef {
  productId: string;
  seq: string;
}

export function formatId(kind: RecordKind, ref: RecordRef): string {
  return `${kind}_${ref.seq}_${ref.productId}`;
}

/** Parses a hold (`h_…`) or order (`o_…`) id; null when it is not one. */
export function parseId(kind: RecordKind, id: string): RecordRef | null {
  if (id.length > 90 || id[0] !== kind || id[1] !== '_') return null;
  const sep = id.indexOf('_', 2);
  if (sep < 3) return null;
  const seq = id.slice(2, sep);
  const productId = id.slice(sep + 1);
  if (!/^[1-9][0-9]{0,15}$/.test(seq) || !PRODUCT_ID_PATTERN.test(productId)) return null;
  return { productId, seq };
}

export interface ProductKeys {
  /** hash: stock counters (total, available, held, pending, sold), sale window, limit, price, metadata */
  product: string;
  /** hash: user id -> units held + pending + paid */
  used: string;
  /** hash: hold seq -> packed hold record */
  holds: string;
  /** list: hold seqs in expiry order (constant TTL makes creation order = expiry order) */
  holdQueue: string;
  /** hash: order seq (= its hold's seq) -> order record (JSON) */
  orders: string;
  /** list: order seqs in payment-deadline order */
  orderQueue: string;
  /** list: "<h|o><seq>:<ms>" / "e<event id>:<ms>" of ended records waiting for their retention to pass */
  ended: string;
  /** hash: event id -> fingerprint and result of a payment event */
  events: string;
  /** hash: hold seq -> payment event that arrived before the hold's order */
  deferred: string;
  /** set: order seqs whose current state is not yet known to be in Postgres */
  outbox: string;
  /** set: payment event ids whose current state is not yet known to be in Postgres */
  eventOutbox: string;
  /** hash: user id -> waiting-room or raffle ticket (see lua/includes/tickets.lua) */
  tickets: string;
  /** sorted set: user id -> random score, the customers who joined the waiting room before it opened */
  preQueue: string;
  /** hash: position -> user id, the customers who joined the open waiting room, in arrival order */
  line: string;
  /** list: user ids in the order they were admitted (constant window: admission order = expiry order) */
  admitted: string;
  /** list: a raffle's entrants in draw order, winners first, then the waitlist */
  draw: string;
  /** sorted set: "type|at ms|ref|rest" -> ms, hold and ticket events waiting to become outbound events (lua/includes/notices.lua) */
  notices: string;
  /** the hold idempotency buckets of the days `now` - 2 .. `now` + 1 */
  holdIdempotency(nowMs: number): [string, string, string, string];
}

export class Keys {
  private readonly byProduct = new Map<string, ProductKeys>();

  constructor(readonly prefix: string) {}

  /** set of every product id loaded into Redis (read by the sweep; not part of any script). */
  get productIndex(): string {
    return `${this.prefix}:products`;
  }

  /** string: set once Redis holds the engine's state; missing, Redis lost everything (Recovery). */
  get generation(): string {
    return `${this.prefix}:generation`;
  }

  /**
   * BullMQ queue prefix: the deployment's prefix (tests and deployments can share one Redis), with a
   * hash tag so every key of a queue shares one Redis Cluster slot, as BullMQ's scripts require.
   */
  get queuePrefix(): string {
    return `${this.prefix}:{q}`;
  }

  /** set of the products a product job of second `sec` works on (src/jobs/product-jobs.ts); in the queues' slot */
  dueProducts(job: string, sec: number): string {
    return `${this.queuePrefix}:due:${job}:${sec}`;
  }

  /** The Redis Cluster slot of a product's keys (they share its hash tag). */
  productSlot(productId: string): number {
    return calculateSlot(this.product(productId).product);
  }

  product(productId: string): ProductKeys {
    let keys = this.byProduct.get(productId);
    if (!keys) {
      keys = this.buildProductKeys(productId);
      if (this.byProduct.size >= 10_000) this.byProduct.clear();
      this.byProduct.set(productId, keys);
    }
    return keys;
  }

  private buildProductKeys(productId: string): ProductKeys {
    const tag = `${this.prefix}:{p:${productId}}`;
    return {
      product: `${tag}:product`,
      used: `${tag}:used`,
      holds: `${tag}:holds`,
      holdQueue: `${tag}:hold-queue`,
      orders: `${tag}:orders`,
      orderQueue: `${tag}:order-queue`,
      ended: `${tag}:ended`,
      events: `${tag}:events`,
      deferred: `${tag}:deferred`,
      outbox: `${tag}:outbox`,
      eventOutbox: `${tag}:event-outbox`,
      tickets: `${tag}:tickets`,
      preQueue: `${tag}:pre-queue`,
      line: `${tag}:line`,
      admitted: `${tag}:admitted`,
      draw: `${tag}:draw`,
      notices: `${tag}:notices`,
      holdIdempotency(nowMs: number) {
        const day = Math.floor(nowMs / IDEMPOTENCY_BUCKET_MS);
        return [day - 2, day - 1, day, day + 1].map((d) => `${tag}:idem:holds:${d}`) as [string, string, string, string];
      },
    };
  }
}
