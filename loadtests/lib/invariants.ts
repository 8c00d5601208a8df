import postgres from 'postgres';
import type { StockBreakdown } from '../../src/engine/products.js';
import type { LedgerOrder } from './ledger.js';

export interface Verdict {
  ok: boolean;
  detail: string;
}

const TERMS = ['total', 'available', 'held', 'pending_payment', 'sold'] as const;

/** Invariant 1: `total = available + held + pending_payment + sold`, every term >= 0 (so nothing is oversold). */
export function stockInvariant(stock: StockBreakdown): Verdict {
  const sum = stock.available + stock.held + stock.pending_payment + stock.sold;
  const negative = TERMS.filter((t) => !(Number.isFinite(stock[t]) && stock[t] >= 0));
  const ok = sum === stock.total && negative.length === 0;
  const detail = `${stock.total} = ${stock.available} + ${stock.held} + ${stock.pending_payment} + ${stock.sold}`;
  return { ok, detail: ok ? detail : `${detail} (sum ${sum}${negative.length ? `; negative/invalid: ${negative.join(', ')}` : ''})` };
}

/** Units sold according to the engine equal the units of the orders customers saw paid. */
export function soldMatchesPaid(stock: StockBreakdown, paidUnits: number): Verdict {
  return { ok: stock.sold === paidUnits, detail: `sold ${stock.sold}, paid orders' units ${paidUnits}` };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Invariant 4: the paid orders of the given products in Postgres are exactly the ones customers saw paid.
 * Persistence is asynchronous (a worker), so this polls until they match or the timeout passes.
 */
export async function paidOrdersInPostgres(
  databaseUrl: string,
  productIds: string[],
  expected: LedgerOrder[],
  timeoutMs: number,
): Promise<Verdict> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const want = new Set(expected.map((o) => o.id));
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const rows = await sql<{ id: string }[]>`
        SELECT id FROM orders WHERE product_id IN ${sql(productIds)} AND status = 'paid'`;
      const have = new Set(rows.map((r) => r.id));
      const missing = [...want].filter((id) => !have.has(id));
      const extra = [...have].filter((id) => !want.has(id));
      if ((missing.length === 0 && extra.length === 0) || Date.now() >= deadline) {
        const ok = missing.length === 0 && extra.length === 0;
        const sample = (ids: string[]) => ids.slice(0, 3).join(', ');
        return {
          ok,
          detail: ok
            ? `${have.size} paid orders in Postgres, as expected`
            : `expected ${want.size}, Postgres has ${have.size}; missing ${missing.length} [${sample(missing)}], unexpected ${extra.length} [${sample(extra)}]`,
        };
      }
      await sleep(250);
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}
