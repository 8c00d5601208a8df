import { commands } from '../redis/commands.js';
import type { EngineContext } from './context.js';
import type { Expiry } from './expiry.js';
import type { Persistence } from './persistence.js';

const GC_BATCH = 1000;

export interface SweepReport {
  products: number;
  expiredHolds: number;
  expiredOrders: number;
  /** records still waiting for Postgres (a drain was asked for) */
  unpersisted: number;
  dropped: number;
}

/**
 * The safety net behind the per-second expiry and persistence jobs: expires every overdue hold and
 * order of every product (a lost or late job never leaks stock), asks for a drain wherever an outbox
 * still holds records (a lost, failed or exhausted persistence job never loses a change), and drops
 * ended records past their retention.
 */
export class Sweep {
  constructor(
    private readonly ctx: EngineContext,
    private readonly expiry: Expiry,
    private readonly persistence: Persistence,
  ) {}

  async run(): Promise<SweepReport> {
    const ids = await this.ctx.redis.smembers(this.ctx.keys.productIndex);
    const report: SweepReport = { products: ids.length, expiredHolds: 0, expiredOrders: 0, unpersisted: 0, dropped: 0 };
    for (const id of ids) {
      report.expiredHolds += await this.expiry.holds(id);
      report.expiredOrders += await this.expiry.orders(id);
      report.unpersisted += await this.persistence.scheduleBacklog(id);
      const [dropped] = (await commands.collectEnded(this.ctx.redis, this.ctx.keys.product(id), this.ctx.config.RECORD_RETENTION_MS, GC_BATCH)) as number[];
      report.dropped += dropped!;
    }
    if (report.expiredHolds + report.expiredOrders > 0) this.ctx.logger.info(report, 'sweep');
    return report;
  }
}
