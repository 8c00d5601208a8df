import type { Logger } from 'pino';
import type { ProductReconciliation, ReconcileReport } from '../contract.js';
import * as orderConflicts from '../db/order-conflicts.js';
import * as orderRows from '../db/orders.js';
import * as productRows from '../db/products.js';
import { bounded } from '../db/sql.js';
import { AppError } from '../errors.js';
import { commands } from '../redis/commands.js';
import { decode } from '../redis/replies.js';
import type { EngineContext } from './context.js';
import type { Persistence } from './persistence.js';
import type { Products } from './products.js';

/**
 * A reload of the total that Redis refused: it holds, has pending or sold more units than Postgres's
 * total. Not repaired but reported (oversell risk), so the rest of the report is not lost with it.
 */
function belowCommitted(err: unknown): false {
  if (err instanceof AppError && err.code === 'stock_below_committed') return false;
  throw err;
}

/**
 * Compares Redis counters with Redis records and with Postgres, and the product's settings with
 * Postgres, reports drift, repairs what is provably safe (counter drift the records explain; the total
 * and settings Postgres committed; unpersisted states are re-enqueued), and flags
 * oversell risk for a human instead of guessing. Order records kept aside as conflicts (an id handed
 * out twice) are reported as drift: they need a human too.
 */
export class Reconciler {
  constructor(
    private readonly ctx: EngineContext,
    private readonly products: Products,
    private readonly persistence: Persistence,
  ) {}

  async run(repair = true, log: Logger = this.ctx.logger): Promise<ReconcileReport> {
    const products: ProductReconciliation[] = [];
    for (const id of await bounded(productRows.ids(this.ctx.sql))) products.push(await this.product(id, repair, log));
    return { products, oversell_risk: products.some((p) => p.oversell_risk) };
  }

  private async product(id: string, repair: boolean, log: Logger): Promise<ProductReconciliation> {
    const k = this.ctx.keys.product(id);
    if ((await this.ctx.redis.exists(k.product)) === 0) await this.products.ensure(id);
    // audited, compared and repaired holding the product's row lock, as a change writes Redis: the total
    // is compared with the row a change in flight commits, and never given back one it replaced (each
    // step of a run waits at most Postgres's deadline, and goes on: a repair is right whenever it lands)
    const { audit, settings, postgres, conflicts, reloaded } = await bounded(this.ctx.sql.begin(async (tx) => {
      const row = (await productRows.lock(tx, id))!;
      const audit = decode.auditProduct(await commands.auditProduct(this.ctx.redis, k, repair));
      const settings = await this.products.settingsDrift(tx, row);
      const [committed, conflicts] = await Promise.all([orderRows.committedUnits(tx, id), orderConflicts.count(tx, id)]);
      const reload = repair && (audit.counters.total !== row.stock || settings.length > 0);
      const reloaded = reload && (await this.products.load(tx, row).then(() => true, belowCommitted));
      return { audit, settings, postgres: { pending: committed.pending, sold: committed.sold, total: row.stock }, conflicts, reloaded };
    }));
    const unpersisted = await this.persistence.backlog(id);
    const c = audit.counters;
    const drift: string[] = [];
    if (c.held !== audit.records.held) drift.push(`held counter ${c.held} != ${audit.records.held} in active holds`);
    if (c.pending !== audit.records.pending) drift.push(`pending counter ${c.pending} != ${audit.records.pending} in pending orders`);
    if (c.total !== c.available + c.held + c.pending + c.sold) drift.push('total != available + held + pending + sold');
    if (c.total !== postgres.total) drift.push(`total ${c.total} in Redis != ${postgres.total} in Postgres`);
    if (settings.length > 0) drift.push(`${settings.join(', ')} in Redis != Postgres`);
    if (unpersisted === 0 && c.sold < postgres.sold) drift.push(`Postgres has ${postgres.sold} sold, Redis ${c.sold}`);
    if (conflicts > 0) drift.push(`${conflicts} order records named an order Postgres has for another (see order_conflicts)`);
    const repaired: string[] = [];
    if (audit.repaired) repaired.push('held/pending/available counters set from the records');
    if (repair && unpersisted > 0) {
      const written = await bounded(this.persistence.drain(id));
      repaired.push(`${written} unpersisted states written to Postgres`);
    }
    if (reloaded && c.total !== postgres.total) repaired.push('total reloaded from Postgres');
    if (reloaded && settings.length > 0) repaired.push('settings reloaded from Postgres');
    const oversellRisk = c.available < 0 || c.sold + c.pending + c.held > Math.min(c.total, postgres.total) || postgres.sold > postgres.total ||
      (unpersisted === 0 && c.sold < postgres.sold);
    if (drift.length > 0 || oversellRisk) log.warn({ productId: id, drift, repaired, oversellRisk }, 'reconcile found drift');
    return { product_id: id, redis: c, redis_records: audit.records, postgres, unpersisted, conflicts, drift, repaired, oversell_risk: oversellRisk };
  }
}
