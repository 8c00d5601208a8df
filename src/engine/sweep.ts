import { forEachConcurrently } from '../concurrently.js';
import { commands } from '../redis/commands.js';
import { decode } from '../redis/replies.js';
import type { EngineContext } from './context.js';
import type { Admission } from './admission.js';
import type { Expiry } from './expiry.js';
import type { PaymentInbox } from './payment-inbox.js';
import type { Persistence } from './persistence.js';
import type { Progress } from './progress.js';

const GC_BATCH = 1000;
/** Products whose checks run at once. */
const SWEEP_CONCURRENCY = 8;
/** Batches of ended records one sweep may drop per product (it goes on while batches come back full). */
const GC_ROUNDS = 20;

export interface SweepReport {
  products: number;
  expiredHolds: number;
  expiredOrders: number;
  /** records still waiting for Postgres (a drain was asked for) */
  unpersisted: number;
  dropped: number;
  /** inbox events applied again (Redis did not know them) or marked refund_required */
  recoveredPayments: number;
}

/**
 * The safety net behind the per-second expiry and persistence jobs: expires every overdue hold and
 * order of every product (a lost or late job never leaks stock), asks for a drain wherever an outbox
 * still holds records (a lost, failed or exhausted persistence job never loses a change), drops
 * ended records past their retention, takes a waiting room's or raffle's admission one step on, and
 * applies the payments inbox's events that Redis does not know (PaymentInbox).
 *
 * A run visits at most SWEEP_PRODUCTS products, the next ones of the product index each time, so its
 * cost does not grow with the catalogue (a few scripts per product each run would cost a drop over
 * 10,000 products more Redis time than its holds); every product comes round once per
 * ceil(products / SWEEP_PRODUCTS) runs.
 */
export class Sweep {
  /** where the next run goes on in the product index (SSCAN cursor; "0" = from the start) */
  private cursor = '0';

  constructor(
    private readonly ctx: EngineContext,
    private readonly expiry: Expiry,
    private readonly persistence: Persistence,
    private readonly progress: Progress,
    private readonly admission: Admission,
    private readonly inbox: PaymentInbox,
  ) {}

  async run(): Promise<SweepReport> {
    const [cursor, ids] = await this.ctx.redis.sscan(this.ctx.keys.productIndex, this.cursor, 'COUNT', this.ctx.config.SWEEP_PRODUCTS);
    this.cursor = cursor;
    const report: SweepReport = { products: ids.length, expiredHolds: 0, expiredOrders: 0, unpersisted: 0, dropped: 0, recoveredPayments: 0 };
    // the products' holds in calls they share; then the rest, a few products at a time so that their
    // commands share socket writes (one product after the other, a round trip per command, cost the
    // engine about 0.65 ms per product, 6 % of a core at 500 products every 5 s, with nothing to do)
    const holds = await this.expiry.holdsOf(ids);
    report.expiredHolds = holds.expired;
    // one product's failure must not stop the safety net for the others
    for (const { productIds, err } of holds.failed) this.ctx.logger.error({ err, productIds }, 'sweep could not expire the holds of products');
    await forEachConcurrently(ids, SWEEP_CONCURRENCY, async (id) => {
      try {
        report.expiredOrders += await this.expiry.orders(id);
        report.unpersisted += await this.persistence.scheduleBacklog(id);
        report.dropped += await this.collectEnded(id);
        // a lost admission job, or a raffle whose draw job was lost, goes on from here
        await this.admission.step(id);
      } catch (err) {
        this.ctx.logger.error({ err, productId: id }, 'sweep failed for a product');
      }
    });
    try {
      await this.progress.recordIfMoved(ids);
    } catch (err) {
      this.ctx.logger.error({ err }, 'sweep could not record the products\' progress');
    }
    try {
      const recovery = await this.inbox.recover();
      report.recoveredPayments = recovery.reapplied + recovery.refund_required;
    } catch (err) {
      this.ctx.logger.error({ err }, 'sweep could not recover the payments inbox');
    }
    if (report.expiredHolds + report.expiredOrders + report.recoveredPayments > 0) this.ctx.logger.info(report, 'sweep');
    return report;
  }

  private async collectEnded(productId: string): Promise<number> {
    const k = this.ctx.keys.product(productId);
    let total = 0;
    for (let round = 0; round < GC_ROUNDS; round++) {
      const dropped = decode.collected(await commands.collectEnded(this.ctx.redis, k, this.ctx.config.RECORD_RETENTION_MS, GC_BATCH));
      total += dropped;
      if (dropped < GC_BATCH) break;
    }
    return total;
  }
}
