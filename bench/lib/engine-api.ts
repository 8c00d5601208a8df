import { randomBytes } from 'node:crypto';
import type { EngineProcess } from '../../src/tools/engine-process.js';
import { AdminProduct, type CreateProductBody, type Stock } from '../../src/contract.js';

async function admin(engine: EngineProcess, method: string, path: string, body?: CreateProductBody): Promise<AdminProduct> {
  const res = await fetch(`${engine.url}/api/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${engine.adminToken}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`${method} /api/admin${path} -> ${res.status} ${await res.text()}`);
  return AdminProduct.parse(await res.json());
}

/** Creates a product (no sale window, no per-user limit) and returns its id. */
/** Holds outlive the whole bench, so one run's holds never expire in the middle of a later run. */
export const BENCH_ENGINE_ENV = { HOLD_TTL_MS: String(3600_000) };

export async function createProduct(engine: EngineProcess, name: string, stock: number): Promise<string> {
  const id = `bench-${name}-${randomBytes(3).toString('hex')}`;
  await admin(engine, 'POST', '/products', { id, name: `bench ${name}`, unit_price_minor: 1999, currency: 'EUR', stock, per_user_limit: null });
  return id;
}

export async function productStock(engine: EngineProcess, id: string): Promise<Stock> {
  return (await admin(engine, 'GET', `/products/${id}`)).stock;
}
