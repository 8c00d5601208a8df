import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { createScratchDatabase } from './database.js';
import { startService } from './processes.js';
import type { RowLockService } from './types.js';

/**
 * Starts `bench/rowlock-server.ts` on a fresh database of its own (its schema is created by the server
 * at start) with its own JWT secret; `stop()` also drops the database.
 */
export async function startRowLockServer(poolSize: number): Promise<RowLockService> {
  const db = await createScratchDatabase('rowlock');
  const jwtSecret = `jwt-${randomBytes(12).toString('hex')}`;
  let service;
  try {
    service = await startService('rowlock-server.ts', { DATABASE_URL: db.url, JWT_SECRET: jwtSecret, POOL_SIZE: String(poolSize) });
  } catch (err) {
    await db.drop();
    throw err;
  }
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  return {
    ...service,
    jwtSecret,
    poolSize,
    async createProduct(stock) {
      const id = `bench-rowlock-${randomBytes(3).toString('hex')}`;
      await sql`INSERT INTO products (id, stock) VALUES (${id}, ${stock})`;
      return id;
    },
    async ledger(productId) {
      const [row] = await sql<{ stock: number; holds: string; held_qty: string | null }[]>`
        SELECT p.stock, count(h.id) AS holds, sum(h.qty) AS held_qty
        FROM products p LEFT JOIN holds h ON h.product_id = p.id
        WHERE p.id = ${productId} GROUP BY p.stock`;
      return { stock: row!.stock, holds: Number(row!.holds), heldQty: Number(row!.held_qty ?? 0) };
    },
    async stop() {
      await service.stop();
      await sql.end();
      await db.drop();
    },
  };
}
