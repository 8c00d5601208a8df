import type { EngineContext } from './context.js';
import type { Holds } from './holds.js';

const GC_BATCH = 1000;

/**
 * The safety net behind the per-second expiry jobs: expires every overdue hold of every product (so a
 * lost or late job never leaks stock) and drops ended records past their retention.
 */
export class Sweep {
  constructor(
    private readonly ctx: EngineContext,
    private readonly holds: Holds,
  ) {}

  async run(): Promise<{ products: number; expiredHolds: number; dropped: number }> {
    const ids = await this.ctx.redis.smembers(this.ctx.keys.productIndex);
    let expiredHolds = 0;
    let dropped = 0;
    for (const id of ids) {
      expiredHolds += await this.holds.expireDue(id);
      dropped += await this.collectEnded(id);
    }
    if (expiredHolds > 0) this.ctx.logger.info({ expiredHolds }, 'sweep expired overdue holds');
    return { products: ids.length, expiredHolds, dropped };
  }

  private async collectEnded(productId: string): Promise<number> {
    const k = this.ctx.keys.product(productId);
    const [dropped] = (await this.ctx.redis.collectEnded(k.ended, k.holds, k.orders, k.outbox, this.ctx.config.RECORD_RETENTION_MS, GC_BATCH)) as number[];
    return dropped!;
  }
}
