import type { HoldRequest } from '../redis/commands.js';
import type { HoldOutcome } from '../redis/replies.js';

/** At most this many requests per script call: a script blocks Redis while it runs. */
const MAX_BATCH = 200;

interface Waiting extends HoldRequest {
  resolve(outcome: HoldOutcome): void;
  reject(err: unknown): void;
}

/** One product's waiting requests in a call, in arrival order. */
interface ProductWaiting {
  productId: string;
  requests: Waiting[];
}

/** One product's requests in a call, in arrival order. */
export interface ProductRequests {
  productId: string;
  requests: readonly HoldRequest[];
}

/** A product's part of a call: one outcome per request, in order, or why none of its requests was placed. */
export type ProductPlaced = HoldOutcome[] | { failed: unknown };

/** Places one call's requests: one result per product, in order. */
export type PlaceBatch = (products: readonly ProductRequests[]) => Promise<ProductPlaced[]>;

/**
 * Group commit of hold requests, per group of products that one script call may span (those whose
 * keys share a Redis Cluster slot; every product on a standalone Redis): one call at a time is in
 * Redis per group, and the requests that arrive meanwhile go together in the next one, sent at the
 * end of the event-loop turn in which the previous one answered (or of the turn they arrived in, when
 * none is in Redis). A call has a fixed cost in Redis and in this process, and reads and writes each
 * product's record once, so the more requests share it the cheaper each is, however many products a
 * drop spreads over; waiting for the call in Redis lets them gather. What a call does is up to
 * `placeBatch`; this class only batches.
 */
export class HoldBatches {
  /** group -> product id -> requests for the group's next call */
  private readonly waiting = new Map<number, Map<string, Waiting[]>>();
  /** groups with a call in Redis */
  private readonly busy = new Set<number>();
  private scheduled = false;

  constructor(
    private readonly placeBatch: PlaceBatch,
    /** the group of a product: products of one group may share a call */
    private readonly groupOf: (productId: string) => number,
  ) {}

  place(productId: string, userId: string, qty: number, idempotencyKey: string): Promise<HoldOutcome> {
    return new Promise((resolve, reject) => {
      const group = this.groupOf(productId);
      let products = this.waiting.get(group);
      if (!products) this.waiting.set(group, (products = new Map()));
      let batch = products.get(productId);
      if (!batch) products.set(productId, (batch = []));
      // one object per waiting request, built field by field: what waits survives young collections,
      // so every extra object per request here ends up in V8's old generation
      batch.push({ userId, qty, idempotencyKey, resolve, reject });
      if (!this.busy.has(group)) this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    for (const [group, products] of this.waiting) {
      if (this.busy.has(group)) continue;
      this.send(group, this.take(group, products));
    }
  }

  /** The group's next call: whole products' requests in arrival order, up to MAX_BATCH requests. */
  private take(group: number, products: Map<string, Waiting[]>): ProductWaiting[] {
    const call: ProductWaiting[] = [];
    let room = MAX_BATCH;
    for (const [productId, batch] of products) {
      if (batch.length > room) {
        call.push({ productId, requests: batch.splice(0, room) });
        break;
      }
      call.push({ productId, requests: batch });
      products.delete(productId);
      room -= batch.length;
      if (room === 0) break;
    }
    if (products.size === 0) this.waiting.delete(group);
    return call;
  }

  private send(group: number, call: ProductWaiting[]): void {
    this.busy.add(group);
    const settled = () => {
      this.busy.delete(group);
      if (this.waiting.has(group)) this.schedule();
    };
    this.placeBatch(call).then(
      (placed) => {
        settled();
        for (let p = 0; p < call.length; p++) {
          const { requests } = call[p]!;
          const result = placed[p]!;
          if (Array.isArray(result)) for (let i = 0; i < requests.length; i++) requests[i]!.resolve(result[i]!);
          else for (const w of requests) w.reject(result.failed);
        }
      },
      (err: unknown) => {
        settled();
        for (const { requests } of call) for (const w of requests) w.reject(err);
      },
    );
  }
}
