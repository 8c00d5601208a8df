import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { createTestDatabase } from '../support/harness.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => db?.drop());

describe('migrations', () => {
  it('processes starting together apply each migration exactly once', async () => {
    const clients = Array.from({ length: 5 }, () => postgres(db.url, { max: 1, onnotice: () => {} }));
    const applied = await Promise.all(clients.map((sql) => migrate(sql)));
    await Promise.all(clients.map((sql) => sql.end()));
    expect(applied.flat().sort()).toEqual(['001_products.sql', '002_orders_and_payments.sql', '003_orders_hold_id_by_check.sql', '004_products_seq_high_water.sql']);
    const sql = postgres(db.url, { max: 1 });
    const rows = await sql`SELECT name FROM schema_migrations ORDER BY name`;
    expect(rows.map((r) => r.name)).toEqual(['001_products.sql', '002_orders_and_payments.sql', '003_orders_hold_id_by_check.sql', '004_products_seq_high_water.sql']);
    expect(await migrate(sql)).toEqual([]);
    await sql.end();
  });
});
