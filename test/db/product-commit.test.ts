import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, startHarness, uniq, type Harness } from '../support/harness.js';

/**
 * A product change whose COMMIT fails leaves Redis showing what Postgres has. The test database gets
 * a deferred constraint trigger that raises at COMMIT for a product named REFUSED, after every statement
 * of the change (and the engine's Redis writes before the commit) went through.
 */
const REFUSED = 'refused at commit';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { worker: false });
  await h.sql.unsafe(`
    CREATE FUNCTION refuse_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.name = '${REFUSED}' THEN RAISE EXCEPTION 'refused at commit'; END IF;
      RETURN NULL;
    END $$;
    CREATE CONSTRAINT TRIGGER refuse_at_commit AFTER INSERT OR UPDATE ON products
      DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_at_commit();`);
});
afterAll(async () => h?.close());

const admin = (method: string, path: string, body?: unknown) => h.request(method, `/api/admin${path}`, { token: ADMIN_TOKEN, body });

/** The product as Redis has it and as Postgres has it, in the same terms. */
async function bothSides(pid: string) {
  const [name, price, total, limit] = await h.redis.hmget(h.runtime.engine.ctx.keys.product(pid).product, 'name', 'price', 'total', 'limit');
  const [row] = await h.sql<{ name: string; unit_price_minor: string; stock: number; per_user_limit: number | null }[]>`
    SELECT name, unit_price_minor, stock, per_user_limit FROM products WHERE id = ${pid}`;
  return {
    redis: { name, price: Number(price), total: Number(total), limit: limit ? Number(limit) : null },
    postgres: { name: row!.name, price: Number(row!.unit_price_minor), total: row!.stock, limit: row!.per_user_limit },
  };
}

describe('a product change whose commit fails', () => {
  it.each([
    ['more stock and a new price', { stock: 25, unit_price_minor: 1 }],
    ['less stock', { stock: 4 }],
    ['a per-user limit', { per_user_limit: 1 }],
  ])('%s: Redis keeps what Postgres has', async (_, change) => {
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 500 });
    const hold = await h.request('POST', '/api/holds', { token: h.token('buyer'), body: { product_id: pid, qty: 2 } });
    expect(hold.status).toBe(201);

    const res = await admin('PATCH', `/products/${pid}`, { ...change, name: REFUSED });
    expect(res.status).toBe(500);

    const { redis, postgres } = await bothSides(pid);
    expect(postgres).toEqual({ name: 'Limited sneaker', price: 500, total: 10, limit: null });
    expect(redis).toEqual(postgres);
    expect(await h.stock(pid)).toEqual({ total: 10, available: 8, held: 2, pending_payment: 0, sold: 0 });
  });

  it('a new product whose commit fails is in neither', async () => {
    const pid = uniq('p');
    const res = await admin('POST', '/products', { id: pid, name: REFUSED, unit_price_minor: 100, currency: 'EUR', stock: 5 });
    expect(res.status).toBe(500);
    expect(await h.sql`SELECT 1 FROM products WHERE id = ${pid}`).toHaveLength(0);
    expect(await h.redis.exists(h.runtime.engine.ctx.keys.product(pid).product)).toBe(0);
    expect((await h.request('GET', `/api/products/${pid}`)).status).toBe(404);
  });

  it('the same change without the failing commit reaches both', async () => {
    const pid = await h.createProduct({ stock: 10, unit_price_minor: 500 });
    expect((await admin('PATCH', `/products/${pid}`, { stock: 25, unit_price_minor: 1, name: 'Renamed' })).status).toBe(200);
    const { redis, postgres } = await bothSides(pid);
    expect(postgres).toEqual({ name: 'Renamed', price: 1, total: 25, limit: null });
    expect(redis).toEqual(postgres);
  });
});
