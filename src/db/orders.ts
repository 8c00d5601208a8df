import type { OrderStatus } from '../contract.js';
import type { Db } from './sql.js';

/** An order as the API shows it, read from `orders`. */
export interface OrderRow {
  id: string;
  hold_id: string;
  user_id: string;
  product_id: string;
  qty: number;
  unit_price_minor: string;
  total_minor: string;
  currency: string;
  status: OrderStatus;
  created_at: Date;
  payment_due_at: Date;
}

/** An order's state as the persistence worker writes it. */
export interface OrderWrite extends Omit<OrderRow, 'unit_price_minor' | 'total_minor'> {
  unit_price_minor: number;
  total_minor: number;
  updated_at: Date;
}

/** What Postgres knows a product has committed: units pending payment and sold, and its highest order seq. */
export interface CommittedUnits {
  pending: number;
  sold: number;
  maxSeq: number;
}

/** The order, whoever's it is; null when there is none. */
export function find(db: Db, orderId: string): Promise<OrderRow | null> {
  return db<OrderRow[]>`
    SELECT id, hold_id, user_id, product_id, qty, unit_price_minor, total_minor, currency, status, created_at, payment_due_at
    FROM orders WHERE id = ${orderId}`.then(([row]) => row ?? null);
}

/** The user's order; null when there is none or it is another user's. */
export async function findForUser(db: Db, orderId: string, userId: string): Promise<OrderRow | null> {
  const row = await find(db, orderId);
  return row?.user_id === userId ? row : null;
}

export async function committedUnits(db: Db, productId: string): Promise<CommittedUnits> {
  const [row] = await db<{ pending: string; sold: string; seq: string }[]>`
    SELECT coalesce(sum(qty) FILTER (WHERE status = 'pending_payment'), 0) AS pending,
           coalesce(sum(qty) FILTER (WHERE status = 'paid'), 0) AS sold,
           coalesce(max(split_part(id, '_', 2)::bigint), 0) AS seq
    FROM orders WHERE product_id = ${productId}`;
  return { pending: Number(row!.pending), sold: Number(row!.sold), maxSeq: Number(row!.seq) };
}

/** An order the upsert inserted or moved to a new status: what outbound events describe. */
export interface OrderMoved {
  id: string;
  status: OrderStatus;
  inserted: boolean;
}

/**
 * Upserts orders in one statement; a status only moves forward, whatever order the writes come in, and
 * only on a row with the same facts (a row with another customer, product, quantity or creation time is
 * a conflict: see order-conflicts.ts). Returns the rows that changed (a write that moved nothing returns
 * nothing, so a retried drain reports nothing twice); `xmax = 0` holds for a row this statement
 * inserted, not for one it updated.
 */
export function upsert(db: Db, rows: OrderWrite[]): Promise<OrderMoved[]> {
  return db<OrderMoved[]>`
    INSERT INTO orders ${db(rows)}
    ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, updated_at = EXCLUDED.updated_at, persisted_at = now()
    WHERE order_status_rank(orders.status) < order_status_rank(EXCLUDED.status)
      AND (orders.user_id, orders.product_id, orders.qty, orders.created_at) = (EXCLUDED.user_id, EXCLUDED.product_id, EXCLUDED.qty, EXCLUDED.created_at)
    RETURNING id, status, (xmax = 0) AS inserted`.then((moved) => [...moved]);
}

/** A product's orders that can still be paid, for a Redis that has to be rebuilt (oldest deadline first). */
export function pending(db: Db, productId: string): Promise<OrderRow[]> {
  return db<OrderRow[]>`
    SELECT id, hold_id, user_id, product_id, qty, unit_price_minor, total_minor, currency, status, created_at, payment_due_at
    FROM orders WHERE product_id = ${productId} AND status = 'pending_payment' ORDER BY payment_due_at, id`.then((rows) => [...rows]);
}

/** Units each customer of a product has pending or paid (what the per-user limit counts). */
export function unitsByUser(db: Db, productId: string): Promise<{ user_id: string; units: string }[]> {
  return db<{ user_id: string; units: string }[]>`
    SELECT user_id, sum(qty) AS units FROM orders
    WHERE product_id = ${productId} AND status IN ('pending_payment', 'paid') GROUP BY user_id`.then((rows) => [...rows]);
}
