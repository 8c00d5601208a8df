import type { Db } from './sql.js';

/** A row of `products`. */
export interface ProductRow {
  id: string;
  name: string;
  unit_price_minor: string;
  currency: string;
  stock: number;
  sale_starts_at: Date | null;
  sale_ends_at: Date | null;
  per_user_limit: number | null;
  seq_high_water: string;
  /** the product's progress counter in Redis when Postgres last recorded it (migrations/008) */
  redis_mark: string;
  admission: AdmissionMode;
  admission_window_s: number;
  admission_headroom: number;
  raffle_closes_at: Date | null;
  /** hex; set while the product is (or was) a raffle */
  raffle_seed: string | null;
}

export type AdmissionMode = 'open' | 'queue' | 'raffle';

/** How a product admits buyers (see migrations/006_products_admission.sql). */
export interface AdmissionFields {
  admission: AdmissionMode;
  admission_window_s: number;
  admission_headroom: number;
  raffle_closes_at: string | Date | null;
  raffle_seed: string | null;
}

export interface NewProduct extends AdmissionFields {
  id: string;
  name: string;
  unit_price_minor: number;
  currency: string;
  stock: number;
  sale_starts_at: string | null;
  sale_ends_at: string | null;
  per_user_limit: number | null;
}

export type ProductChange = Omit<NewProduct, 'id' | 'currency' | 'sale_starts_at' | 'sale_ends_at'> & {
  sale_starts_at: string | Date | null;
  sale_ends_at: string | Date | null;
};

/** Inserts a product; null when its id exists. */
export async function insert(db: Db, p: NewProduct): Promise<ProductRow | null> {
  const [row] = await db<ProductRow[]>`
    INSERT INTO products (id, name, unit_price_minor, currency, stock, sale_starts_at, sale_ends_at, per_user_limit,
      admission, admission_window_s, admission_headroom, raffle_closes_at, raffle_seed)
    VALUES (${p.id}, ${p.name}, ${p.unit_price_minor}, ${p.currency}, ${p.stock}, ${p.sale_starts_at}, ${p.sale_ends_at}, ${p.per_user_limit},
      ${p.admission}, ${p.admission_window_s}, ${p.admission_headroom}, ${p.raffle_closes_at}, ${p.raffle_seed})
    ON CONFLICT (id) DO NOTHING
    RETURNING *`;
  return row ?? null;
}

export function find(db: Db, id: string): Promise<ProductRow | null> {
  return db<ProductRow[]>`SELECT * FROM products WHERE id = ${id}`.then(([row]) => row ?? null);
}

/** The row, locked until the transaction ends: changes of one product take turns. */
export function lock(db: Db, id: string): Promise<ProductRow | null> {
  return db<ProductRow[]>`SELECT * FROM products WHERE id = ${id} FOR UPDATE`.then(([row]) => row ?? null);
}

export async function update(db: Db, id: string, c: ProductChange): Promise<ProductRow> {
  const [row] = await db<ProductRow[]>`
    UPDATE products SET name = ${c.name}, unit_price_minor = ${c.unit_price_minor}, stock = ${c.stock},
      sale_starts_at = ${c.sale_starts_at}, sale_ends_at = ${c.sale_ends_at},
      per_user_limit = ${c.per_user_limit}, admission = ${c.admission}, admission_window_s = ${c.admission_window_s},
      admission_headroom = ${c.admission_headroom}, raffle_closes_at = ${c.raffle_closes_at}, raffle_seed = ${c.raffle_seed},
      updated_at = now()
    WHERE id = ${id} RETURNING *`;
  return row!;
}

export function all(db: Db): Promise<ProductRow[]> {
  return db<ProductRow[]>`SELECT * FROM products`.then((rows) => [...rows]);
}

export function ids(db: Db): Promise<string[]> {
  return db<{ id: string }[]>`SELECT id FROM products ORDER BY id`.then((rows) => rows.map((r) => r.id));
}

/**
 * The Redis progress marks recorded for `ids` (absent: no such product), their rows locked until the
 * transaction ends (in id order, so lockers of several rows cannot deadlock): a rebuild, which writes the
 * recorded mark into Redis under the same lock, then waits for the mark to be recorded.
 */
export async function lockMarks(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const rows = await db<{ id: string; redis_mark: string }[]>`
    SELECT id, redis_mark FROM products WHERE id IN ${db(ids)} ORDER BY id FOR NO KEY UPDATE`;
  return new Map(rows.map((r) => [r.id, Number(r.redis_mark)]));
}

/**
 * Raises products' recorded seq high-water marks and Redis progress marks (never lowers either), all in
 * one statement. (The rows go as JSON: postgres.js sends array parameters only after looking up the
 * array types.)
 */
export async function recordProgress(db: Db, rows: readonly { id: string; seq: number; mark: number }[]): Promise<void> {
  if (rows.length === 0) return;
  await db`UPDATE products p SET seq_high_water = greatest(p.seq_high_water, r.seq), redis_mark = greatest(p.redis_mark, r.mark)
    FROM jsonb_to_recordset(${db.json(rows)}) AS r(id text, seq bigint, mark bigint)
    WHERE p.id = r.id AND (p.seq_high_water < r.seq OR p.redis_mark < r.mark)`;
}
