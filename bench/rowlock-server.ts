/**
 * The row-lock baseline: how a typical Laravel flash sale takes a hold, as a small Hono server on
 * Postgres. One transaction per hold: lock the product row (SELECT ... FOR UPDATE), check the stock,
 * decrement it, insert the hold. Same JWT verification as the engine (`JwtVerifier`).
 * Env: DATABASE_URL (a database of its own; the schema is created here), JWT_SECRET, POOL_SIZE (10),
 * PORT (0 = free). Prints `{"port":N}` as its first stdout line.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import postgres from 'postgres';
import { CreateHoldBody } from '../src/contract.js';
import { JwtVerifier } from '../src/http/jwt.js';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS products (id text PRIMARY KEY, stock integer NOT NULL CHECK (stock >= 0));
  CREATE TABLE IF NOT EXISTS holds (
    id bigserial PRIMARY KEY,
    product_id text NOT NULL REFERENCES products (id),
    user_id text NOT NULL,
    qty integer NOT NULL CHECK (qty > 0),
    expires_at timestamptz NOT NULL
  );`;
const HOLD_TTL = '2 minutes';

const sql = postgres(process.env.DATABASE_URL!, { max: Number(process.env.POOL_SIZE ?? 10), onnotice: () => {} });
await sql.unsafe(SCHEMA).simple();
const jwt = new JwtVerifier(process.env.JWT_SECRET!);

type Outcome = { status: 201; hold: postgres.Row } | { status: 404 } | { status: 409; available: number };

const app = new Hono();
app.post('/holds', async (c) => {
  const auth = c.req.header('authorization');
  const user = auth?.startsWith('Bearer ') ? jwt.verify(auth.slice(7)) : null;
  if (!user) return c.json({ error: 'unauthorized' }, 401);
  const body = CreateHoldBody.safeParse(await c.req.json().catch(() => undefined));
  if (!body.success) return c.json({ error: 'invalid_request' }, 400);
  const { product_id: productId, qty } = body.data;
  const outcome = await sql.begin(async (tx): Promise<Outcome> => {
    const [product] = await tx<{ stock: number }[]>`SELECT stock FROM products WHERE id = ${productId} FOR UPDATE`;
    if (!product) return { status: 404 };
    if (product.stock < qty) return { status: 409, available: product.stock };
    await tx`UPDATE products SET stock = stock - ${qty} WHERE id = ${productId}`;
    const [hold] = await tx`
      INSERT INTO holds (product_id, user_id, qty, expires_at)
      VALUES (${productId}, ${user.sub}, ${qty}, now() + ${HOLD_TTL}::interval) RETURNING *`;
    return { status: 201, hold: hold! };
  });
  if (outcome.status === 201) return c.json(outcome.hold, 201);
  if (outcome.status === 404) return c.json({ error: 'product_not_found' }, 404);
  return c.json({ error: 'insufficient_stock', available: outcome.available }, 409);
});
app.onError((err, c) => {
  console.error(err);
  return c.json({ error: 'internal_error' }, 500);
});

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  console.log(JSON.stringify({ port: info.port }));
});
process.on('SIGTERM', () => server.close(() => void sql.end().then(() => process.exit(0))));
