import { commands } from '../redis/commands.js';
import { decode } from '../redis/replies.js';
import type { RawReply } from '../redis/scripts.js';
import type { EngineContext } from './context.js';
import type { Persistence } from './persistence.js';

const BATCH = 500;

/** Runs the expiry scripts for a product until nothing overdue is left; hands order changes to persistence. */
export class Expiry {
  constructor(
    private readonly ctx: EngineContext,
    private readonly persistence: Persistence,
  ) {}

  holds(productId: string): Promise<number> {
    return this.drain(productId, () => commands.expireHolds(this.ctx.redis, this.ctx.keys.product(productId), BATCH));
  }

  orders(productId: string): Promise<number> {
    return this.drain(productId, () => commands.expireOrders(this.ctx.redis, this.ctx.keys.product(productId), BATCH));
  }

  private async drain(productId: string, step: () => Promise<RawReply>): Promise<number> {
    let total = 0;
    for (;;) {
      const { expired, more, changes } = decode.expired(await step());
      total += expired;
      this.persistence.changed(productId, changes);
      if (!more) return total;
    }
  }
}
