import { commands } from '../redis/commands.js';
import type { EngineContext } from './context.js';
import type { Changes, Persistence } from './persistence.js';

interface ExpiryReply {
  expired: number;
  more: 0 | 1;
  changes: Changes;
}

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

  private async drain(productId: string, step: () => Promise<unknown>): Promise<number> {
    let total = 0;
    for (;;) {
      const reply = JSON.parse(String(await step())) as ExpiryReply;
      total += reply.expired;
      this.persistence.changed(productId, reply.changes);
      if (reply.more !== 1) return total;
    }
  }
}
