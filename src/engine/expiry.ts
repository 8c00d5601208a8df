import { workOnEach, type WorkDone } from '../jobs/product-jobs.js';
import { commands } from '../redis/commands.js';
import { decode, type Expired } from '../redis/replies.js';
import { callGroupOf, type EngineContext } from './context.js';
import type { Persistence } from './persistence.js';

/** Holds or orders one call looks at, at most (split among the products of a call). */
const BATCH = 500;
/** Products one hold expiry call takes at most. */
const PRODUCTS_PER_CALL = 50;
/** Hold expiry calls in Redis at once for a job's products. */
const CALLS_AT_ONCE = 4;

/** Runs the expiry scripts until nothing overdue is left; hands order changes to persistence. */
export class Expiry {
  private readonly groupOf: (productId: string) => number;

  constructor(
    private readonly ctx: EngineContext,
    private readonly persistence: Persistence,
  ) {
    this.groupOf = callGroupOf(ctx);
  }

  /**
   * The overdue holds of many products (an expiry job's, a sweep's): products that may share a call
   * share one, up to PRODUCTS_PER_CALL a call. A failed call's products are not done.
   */
  async holdsOf(productIds: readonly string[]): Promise<WorkDone & { expired: number }> {
    const groups = new Map<number, string[]>();
    for (const id of productIds) {
      const group = this.groupOf(id);
      let ids = groups.get(group);
      if (!ids) groups.set(group, (ids = []));
      ids.push(id);
    }
    const calls: string[][] = [];
    for (const ids of groups.values()) for (let i = 0; i < ids.length; i += PRODUCTS_PER_CALL) calls.push(ids.slice(i, i + PRODUCTS_PER_CALL));
    let expired = 0;
    const result = await workOnEach(calls, CALLS_AT_ONCE, (ids) => ids, async (ids) => {
      expired += await this.expireHolds(ids);
    });
    return { ...result, expired };
  }

  orders(productId: string): Promise<number> {
    return this.drain([productId], async ([id]) => [decode.expired(await commands.expireOrders(this.ctx.redis, this.ctx.keys.product(id!), BATCH))]);
  }

  /** expireHolds for `productIds` (which may share a call), the call's limit split among them. */
  private expireHolds(productIds: readonly string[]): Promise<number> {
    return this.drain(productIds, async (pending) =>
      decode.expiredEach(await commands.expireHolds(this.ctx.redis, pending.map((id) => this.ctx.keys.product(id)), Math.ceil(BATCH / pending.length))),
    );
  }

  /**
   * Runs `step` (one expiry call for the products, a result each) again for the products whose limit
   * stopped the walk, until none is left; hands each product's changes to persistence.
   */
  private async drain(productIds: readonly string[], step: (pending: readonly string[]) => Promise<Expired[]>): Promise<number> {
    let total = 0;
    for (let pending = productIds; pending.length > 0; ) {
      const more: string[] = [];
      (await step(pending)).forEach(({ expired, more: limited, changes }, i) => {
        total += expired;
        this.persistence.changed(pending[i]!, changes);
        if (limited) more.push(pending[i]!);
      });
      pending = more;
    }
    return total;
  }
}
