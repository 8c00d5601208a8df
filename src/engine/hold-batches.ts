import type { HoldRequest } from '../redis/commands.js';
import type { HoldOutcome } from '../redis/replies.js';

/** At most this many requests per script call: a script blocks Redis while it runs. */
const MAX_BATCH = 200;

interface Waiting extends HoldRequest {
  resolve(outcome: HoldOutcome): void;
  reject(err: unknown): void;
}

/** Places one call's requests for a product: one outcome per request, in order. */
export type PlaceBatch = (productId: string, requests: readonly HoldRequest[]) => Promise<HoldOutcome[]>;

/**
 * Group commit of hold requests, per product: one call at a time is in Redis, and the requests that
 * arrive meanwhile go together in the next one, sent at the end of the event-loop turn in which the
 * previous one answered (or of the turn they arrived in, when none is in Redis). A call has a fixed
 * cost in Redis (about three holds' worth) and reads and writes the product's record once, so the
 * more requests share it the cheaper each is; waiting for the call in Redis lets them gather. What a
 * call does is up to `placeBatch`; this class only batches.
 */
export class HoldBatches {
  /** product id -> requests for its next call */
  private readonly waiting = new Map<string, Waiting[]>();
  /** products with a call in Redis */
  private readonly busy = new Set<string>();
  private scheduled = false;

  constructor(private readonly placeBatch: PlaceBatch) {}

  place(productId: string, userId: string, qty: number, idempotencyKey: string): Promise<HoldOutcome> {
    return new Promise((resolve, reject) => {
      let batch = this.waiting.get(productId);
      if (!batch) this.waiting.set(productId, (batch = []));
      // one object per waiting request, built field by field: what waits survives young collections,
      // so every extra object per request here ends up in V8's old generation
      batch.push({ userId, qty, idempotencyKey, resolve, reject });
      if (!this.busy.has(productId)) this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.flush());
  }

  private flush(): void {
    this.scheduled = false;
    for (const [productId, batch] of this.waiting) {
      if (this.busy.has(productId)) continue;
      if (batch.length > MAX_BATCH) this.waiting.set(productId, batch.splice(MAX_BATCH));
      else this.waiting.delete(productId);
      this.send(productId, batch);
    }
  }

  private send(productId: string, batch: Waiting[]): void {
    this.busy.add(productId);
    const settled = () => {
      this.busy.delete(productId);
      if (this.waiting.has(productId)) this.schedule();
    };
    this.placeBatch(productId, batch).then(
      (outcomes) => {
        settled();
        for (let i = 0; i < batch.length; i++) batch[i]!.resolve(outcomes[i]!);
      },
      (err: unknown) => {
        settled();
        for (const w of batch) w.reject(err);
      },
    );
  }
}
