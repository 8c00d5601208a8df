import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import postgres from 'postgres';
import { inject } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { AdminProduct, type Stock } from '../../src/contract.js';
import { createApp } from '../../src/http/app.js';
import { signJwt } from '../../src/http/jwt.js';
import { createLogger } from '../../src/logger.js';
import { createRedis, type RedisClient } from '../../src/redis/client.js';
import { openEngine, startRuntime, type Runtime } from '../../src/runtime.js';
import { createScratchDatabase, type ScratchDatabase } from '../../src/tools/databases.js';
import { dropPrefix } from '../../src/tools/redis-prefix.js';
import { body } from './answers.js';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';
export const JWT_SECRET = 'test-jwt-secret-0123456789';
export const WEBHOOK_SECRET = 'test-webhook-secret-0123456789';

export const uniq = (label = 't') => `${label}${randomBytes(5).toString('hex')}`;

/** A fresh database on the test Postgres server, dropped by `drop()`. */
export function createTestDatabase(): Promise<ScratchDatabase> {
  return createScratchDatabase(inject('postgresUrl'), uniq('fs_test_'));
}

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
  /** base URL of the listening API (an in-process harness has none) */
  url: string;
  token(userId: string, ttlSeconds?: number): string;
  /** in-process request against the app (no socket) */
  request(method: string, path: string, opts?: { body?: unknown; token?: string; headers?: Record<string, string> }): Promise<Response>;
  createProduct(input?: Record<string, unknown>): Promise<string>;
  stock(productId: string): Promise<Stock>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  /**
   * The engine and its app only, driven with `request()`: no HTTP listener, no BullMQ worker, so none of
   * their start-up and shut-down.
   */
  inProcess?: boolean;
  /** (listening harness) whether the BullMQ workers run in this process */
  worker?: boolean;
  /** the engine reaches Postgres through this URL (e.g. through a TCP proxy); the test's own client does not */
  engineDatabaseUrl?: (url: string) => string;
  /** the engine's logger (one that keeps its lines, to check them); else LOG_LEVEL's on stdout */
  logger?: Logger;
}

/** A whole engine (API on a free port + worker, or in-process) on its own key prefix and its own database. */
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
  const logger = opts.logger ?? createLogger(config.LOG_LEVEL);
  const runtime = opts.inProcess ? await startInProcess(config, logger) : await startRuntime(config, logger, { api: true, worker: opts.worker ?? true });
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
    get url() {
      if (opts.inProcess) throw new Error('an in-process harness has no listening API: use request()');
      return `http://127.0.0.1:${runtime.port}`;
    },
    token,
    request,
    async createProduct(input = {}) {
      const res = await request('POST', '/api/admin/products', {
        token: ADMIN_TOKEN,
        body: { id: uniq('p'), name: 'Limited sneaker', unit_price_minor: 12_900, currency: 'EUR', stock: 10, ...input },
      });
      if (res.status !== 201) throw new Error(`createProduct: ${res.status} ${await res.text()}`);
      return (await body(res, AdminProduct)).id;
    },
    async stock(productId) {
      const res = await request('GET', `/api/admin/products/${productId}`, { token: ADMIN_TOKEN });
      return (await body(res, AdminProduct)).stock;
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

/** The engine's app without a listener or a worker: what `app.request()` needs and no more. */
async function startInProcess(config: Config, logger: Logger): Promise<Runtime> {
  const { engine, close } = await openEngine(config, logger);
  const { app, metrics } = createApp(engine);
  return { engine, app, metrics, port: 0, close };
}
