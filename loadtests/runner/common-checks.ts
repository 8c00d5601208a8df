import { paidOrdersInPostgres } from '../lib/postgres-check.js';
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

/**
 * The checks every scenario ends with: the stock invariant and sold = paid per product, paid orders in
 * Postgres, p99, unexpected responses, and a clean load phase. Returns each product's final stock.
 */
export async function commonChecks(ctx: RunContext, productIds: string[], load: LoadPhaseResult): Promise<{ id: string; stock: StockBreakdown | undefined }[]> {
  const { checks, def, recorder } = ctx;
  const products = [];
  for (const id of productIds) {
    let stock: StockBreakdown | undefined;
    await checks.run(CHECKS.invariant(id), async () => {
      stock = (await ctx.admin.adminProduct(id)).stock;
      return stockInvariant(stock);
    });
    if (stock) {
      const verdict = soldMatchesPaid(stock, ctx.ledger.paidUnits(id));
      checks.add(CHECKS.soldIsPaid(id), verdict.ok, verdict.detail);
    }
    products.push({ id, stock });
  }

  const pgRule = 'every paid order is in Postgres (and no other)';
  const dbUrl = ctx.target.databaseUrl;
  if (dbUrl) {
    await checks.run(pgRule, () => paidOrdersInPostgres(dbUrl, productIds, ctx.ledger.paidOrders(), def.pass.postgres_timeout_s * 1000));
  } else {
    checks.skip(pgRule, 'database unknown: pass --database-url to check Postgres');
  }

  const { total } = recorder.stats();
  checks.add(`p99 < ${def.pass.p99_ms} ms`, total.p99 < def.pass.p99_ms, `p99 ${total.p99.toFixed(1)} ms over ${total.count} requests`);
  checks.add(`unexpected responses <= ${def.pass.max_unexpected}`, recorder.unexpected <= def.pass.max_unexpected, `${recorder.unexpected}`);
  checks.add('iterations ran without errors', load.errorCount === 0, load.errorCount === 0 ? '0' : `${load.errorCount}: ${load.errors.join(' | ')}`);
  checks.add('VUs finished within the graceful stop', load.unfinished === 0, `${load.unfinished} still running`);
  return products;
}
