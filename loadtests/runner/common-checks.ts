import { paidUnits, waitForPaidOrders, type PaidOrder } from '../lib/postgres-check.js';
import { CHECKS, soldMatchesPaid, stockInvariant } from '../steps/rules.js';
import type { StockBreakdown } from '../steps/types.js';
import type { RunContext } from './context.js';

export interface LoadPhaseResult {
  /** iterations that threw, with a few messages */
  errorCount: number;
  errors: string[];
  /** VUs still running after the graceful stop */
  unfinished: number;
}

const PG_RULE = 'every paid order is in Postgres, and every one there was paid';

/**
 * The checks every scenario ends with: the stock invariant per product; sold = units of every paid
 * order, counted in Postgres when the database is known (an order can become paid without a customer
 * reading it back: a hold paid before its order turns into a paid order when it ends), else as customers
 * saw them; the paid orders in Postgres against the run's ledger; p99, unexpected responses, and a clean
 * load phase. Returns each product's final stock.
 */
export async function commonChecks(ctx: RunContext, productIds: string[], load: LoadPhaseResult): Promise<{ id: string; stock: StockBreakdown | undefined }[]> {
  const { checks, def, recorder, ledger } = ctx;
  const products = productIds.map((id) => ({ id, stock: undefined as StockBreakdown | undefined }));
  for (const p of products) {
    await checks.run(CHECKS.invariant(p.id), async () => {
      p.stock = (await ctx.admin.adminProduct(p.id)).stock;
      return stockInvariant(p.stock);
    });
  }

  const dbUrl = ctx.target.databaseUrl;
  if (!dbUrl) {
    for (const p of products) {
      if (!p.stock) continue;
      const verdict = soldMatchesPaid(p.stock, ledger.paidUnits(p.id), 'as customers saw them; pass --database-url to count every paid order');
      checks.add(CHECKS.soldIsPaid(p.id), verdict.ok, verdict.detail);
    }
    checks.skip(PG_RULE, 'database unknown: pass --database-url to check Postgres');
  } else {
    let orders: PaidOrder[] | undefined;
    await checks.run(PG_RULE, async () => {
      // an order can still turn paid after the load (a hold paid early, ending): compare with fresh counts
      orders = await waitForPaidOrders(
        dbUrl,
        productIds,
        async (found) => {
          for (const p of products) p.stock = (await ctx.admin.adminProduct(p.id)).stock;
          return ledger.accountFor(found).ok && products.every((p) => p.stock?.sold === paidUnits(found, p.id));
        },
        def.pass.postgres_timeout_s * 1000,
      );
      return ledger.accountFor(orders);
    });
    for (const p of products) {
      if (!p.stock || !orders) continue;
      const verdict = soldMatchesPaid(p.stock, paidUnits(orders, p.id), 'every paid order in Postgres');
      checks.add(CHECKS.soldIsPaid(p.id), verdict.ok, verdict.detail);
    }
  }

  const { total } = recorder.stats();
  checks.add(`p99 < ${def.pass.p99_ms} ms`, total.p99 < def.pass.p99_ms, `p99 ${total.p99.toFixed(1)} ms over ${total.count} requests`);
  checks.add(`unexpected responses <= ${def.pass.max_unexpected}`, recorder.unexpected <= def.pass.max_unexpected, `${recorder.unexpected}`);
  checks.add('iterations ran without errors', load.errorCount === 0, load.errorCount === 0 ? '0' : `${load.errorCount}: ${load.errors.join(' | ')}`);
  checks.add('VUs finished within the graceful stop', load.unfinished === 0, `${load.unfinished} still running`);
  return products;
}
