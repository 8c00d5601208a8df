import type { OrderWrite } from './orders.js';
import type { Db } from './sql.js';

/** The facts an order id stands for: a record with the same id and other facts is another order. */
type Facts = Pick<OrderWrite, 'id' | 'user_id' | 'product_id' | 'qty' | 'created_at'>;

const sameFacts = (a: Facts, b: Facts) =>
  a.user_id === b.user_id && a.product_id === b.product_id && a.qty === b.qty && a.created_at.getTime() === b.created_at.getTime();

/**
 * Of the rows an upsert did not move, those whose id Postgres has with other facts (an id handed out
 * twice), recorded in `order_conflicts` and returned. The existing row is left as it is.
 */
export async function recordConflicts<R extends Facts>(db: Db, unmoved: R[]): Promise<R[]> {
  if (unmoved.length === 0) return [];
  const existing = await db<Facts[]>`
    SELECT id, user_id, product_id, qty, created_at FROM orders WHERE id IN ${db(unmoved.map((r) => r.id))}`;
  const byId = new Map(existing.map((r) => [r.id, r]));
  const conflicts = unmoved.filter((r) => {
    const old = byId.get(r.id);
    return old !== undefined && !sameFacts(old, r);
  });
  if (conflicts.length === 0) return [];
  const rows = conflicts.map((r) => ({
    order_id: r.id,
    product_id: r.product_id,
    user_id: r.user_id,
    created_at: r.created_at,
    incoming: db.json(JSON.parse(JSON.stringify(r)) as Parameters<typeof db.json>[0]),
  }));
  await db`INSERT INTO order_conflicts ${db(rows)} ON CONFLICT (order_id, user_id, created_at) DO UPDATE SET incoming = EXCLUDED.incoming`;
  return conflicts;
}

/** How many conflicting order records a product has had. */
export async function count(db: Db, productId: string): Promise<number> {
  const [row] = await db<{ n: string }[]>`SELECT count(*) AS n FROM order_conflicts WHERE product_id = ${productId}`;
  return Number(row!.n);
}
