import postgres from 'postgres';
import type { CustomerOrder, Verdict } from '../steps/types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Invariant 4: the paid orders of the given products in Postgres are exactly the ones customers saw paid.
 * Persistence is asynchronous (a worker), so this polls until they match or the timeout passes.
 */
export async function paidOrdersInPostgres(
  databaseUrl: string,
  productIds: string[],
  expected: CustomerOrder[],
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
