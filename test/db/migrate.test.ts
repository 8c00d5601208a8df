import postgres from 'postgres';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import type { ScratchDatabase } from '../../src/tools/databases.js';
import { test } from '../support/fixtures.js';

let db: ScratchDatabase;
test.beforeAll(({ database }) => {
  db = database;
});

describe('migrations', () => {
  it('processes starting together apply each migration exactly once', async () => {
    const clients = Array.from({ length: 5 }, () => postgres(db.url, { max: 1, onnotice: () => {} }));
    const applied = await Promise.all(clients.map((sql) => migrate(sql)));
    await Promise.all(clients.map((sql) => sql.end()));
    expect(applied.flat().sort()).toEqual(['001_products.sql', '002_orders_and_payments.sql', '003_orders_hold_id_by_check.sql', '004_products_seq_high_water.sql', '005_outbound_events.sql', '006_products_admission.sql', '007_payment_inbox.sql', '008_redis_regression.sql', '009_webhook_endpoints_disabled.sql']);
    const sql = postgres(db.url, { max: 1 });
    const rows = await sql`SELECT name FROM schema_migrations ORDER BY name`;
    expect(rows.map((r) => r.name)).toEqual(['001_products.sql', '002_orders_and_payments.sql', '003_orders_hold_id_by_check.sql', '004_products_seq_high_water.sql', '005_outbound_events.sql', '006_products_admission.sql', '007_payment_inbox.sql', '008_redis_regression.sql', '009_webhook_endpoints_disabled.sql']);
    expect(await migrate(sql)).toEqual([]);
    await sql.end();
  });
});
