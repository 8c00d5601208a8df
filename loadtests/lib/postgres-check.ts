import postgres from 'postgres';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A paid order as the system of record has it. */
export interface PaidOrder {
  id: string;
  hold_id: string;
  product_id: string;
  qty: number;
}

/**
 * Every paid order of the given products in Postgres, as an operator would count them. Persistence is
 * asynchronous (a worker), so this polls until `settled` accepts what it found or the timeout passes,
 * and returns the last look.
 */
export async function waitForPaidOrders(
  databaseUrl: string,
  productIds: string[],
  settled: (orders: PaidOrder[]) => Promise<boolean>,
  timeoutMs: number,
): Promise<PaidOrder[]> {
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const orders = await sql<PaidOrder[]>`
        SELECT id, hold_id, product_id, qty FROM orders WHERE product_id IN ${sql(productIds)} AND status = 'paid'`;
      if ((await settled(orders)) || Date.now() >= deadline) return orders;
      await sleep(250);
    }
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Units of the paid orders of one product. */
export const paidUnits = (orders: PaidOrder[], productId: string) => orders.reduce((n, o) => (o.product_id === productId ? n + o.qty : n), 0);
