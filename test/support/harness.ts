import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { dropPrefix } from '../../loadtests/lib/engine-process.js';
import { loadConfig, type Config } from '../../src/config.js';
import { signJwt } from '../../src/http/jwt.js';
import { createLogger } from '../../src/logger.js';
import { createRedis, type RedisClient } from '../../src/redis/client.js';
import { startRuntime, type Runtime } from '../../src/runtime.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const JWT_SECRET = 'test-jwt-secret-0123456789';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

export const uniq = (label = 't') => `${label}${randomBytes(5).toString('hex')}`;

/** A fresh database on the test Postgres server, dropped by `drop()`. */
export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = inject('postgresUrl');
  const name = uniq('fs_test_');
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE "${name}"`);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin.unsafe(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.end();
    },
  };
}

export { dropPrefix };

/** A raw client with the engine's scripts (a cluster client for a node list), for asserting on Redis state. */
export function rawRedis(url = inject('redisUrl')): RedisClient {
  return createRedis({ url, commandTimeoutMs: 0, forQueue: true, name: 'test' });
}

export interface Harness {
  config: Config;
  runtime: Runtime;
  /** the test database, reached directly */
  databaseUrl: string;
  redis: RedisClient;
  sql: postgres.Sql;
  /** base URL of the listening API */
  url: string;
  token(userId: string, ttlSeconds?: number): string;
  /** in-process request against the app (no socket) */
  request(method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<Response>;
  createProduct(input?: Record<string, unknown>): Promise<string>;
  stock(productId: string): Promise<{ total: number; available: number; held: number; pending_payment: number; sold: number }>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  api?: boolean;
  worker?: boolean;
  /** the engine reaches Postgres through this URL (e.g. through a TCP proxy); the test's own client does not */
  engineDatabaseUrl?: (url: string) => string;
}

/** A whole engine (API on a free port + worker) on its own key prefix and its own database. */
export async function startHarness(env: Record<string, string> = {}, opts: HarnessOptions = {}): Promise<Harness> {
  const db = await createTestDatabase();
  const prefix = uniq('t');
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: '0',
    REDIS_URL: inject('redisUrl'),
    DATABASE_URL: opts.engineDatabaseUrl?.(db.url) ?? db.url,
    KEY_PREFIX: prefix,
    JWT_SECRET,
    ADMIN_TOKEN,
    WEBHOOK_SECRET,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    // tests drive many requests per customer; the limiter has its own test
    RATE_LIMIT_PER_SECOND: '0',
    ...env,
  });
  const runtime = await startRuntime(config, createLogger(config.LOG_LEVEL), { api: opts.api ?? true, worker: opts.worker ?? true });
  const redis = rawRedis(config.REDIS_URL);
  const sql = postgres(db.url, { max: 2, onnotice: () => {} });
  const token = (userId: string, ttlSeconds = 3600) =>
    signJwt(JWT_SECRET, { sub: userId, exp: Math.floor(Date.now() / 1000) + ttlSeconds });

  const request: Harness['request'] = (method, path, o = {}) => {
    const headers: Record<string, string> = { ...o.headers };
    if (o.token) headers.authorization = `Bearer ${o.token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    return Promise.resolve(runtime.app.request(path, { method, headers, body }));
  };

  return {
    config,
    runtime,
    databaseUrl: db.url,
    redis,
    sql,
    url: `http://127.0.0.1:${runtime.port}`,
    token,
    request,
    async createProduct(input = {}) {
      const res = await request('POST', '/api/admin/products', {
        token: ADMIN_TOKEN,
        body: { id: uniq('p'), name: 'Limited sneaker', unit_price_minor: 12_900, currency: 'EUR', stock: 10, ...input },
      });
      if (res.status !== 201) throw new Error(`createProduct: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    },
    async stock(productId) {
      const res = await request('GET', `/api/admin/products/${productId}`, { token: ADMIN_TOKEN });
      return ((await res.json()) as { stock: Awaited<ReturnType<Harness['stock']>> }).stock;
    },
    async close() {
      await runtime.close();
      await dropPrefix(redis, prefix);
      redis.disconnect();
      await sql.end();
      await db.drop();
    },
  };
}
