import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { devSecretsInUse, type Config } from './config.js';
import { migrate } from './db/migrate.js';
import { AppError } from './errors.js';
import { createSql } from './db/sql.js';
import { createEngine, type Engine } from './engine/engine.js';
import { createApp } from './http/app.js';
import { ProductJobs } from './jobs/product-jobs.js';
import { Queues } from './jobs/queues.js';
import { startWorkers, type Workers } from './jobs/worker.js';
import { createRedis, type RedisClient } from './redis/client.js';
import { masters, RedisDurability } from './redis/durability.js';
import { Keys } from './redis/keys.js';

/**
 * Connections the kernel queues until the API accepts them. A sale opening brings thousands at once;
 * past Node's default of 511 the kernel drops their SYNs and each such client waits a second or more
 * for its retransmit. (Linux caps this at net.core.somaxconn.)
 */
const LISTEN_BACKLOG = 4096;

/** How long SIGTERM waits for in-flight requests before cutting the connections left. */
const SHUTDOWN_GRACE_MS = 10_000;

export interface RuntimeOptions {
  api: boolean;
  worker: boolean;
}

export interface Runtime {
  engine: Engine;
  app: Hono;
  /** the port the API listens on (0 when the API is not started) */
  port: number;
  close(): Promise<void>;
}

/**
 * BullMQ jobs and holds live in Redis: under eviction they would vanish silently. Production refuses
 * to start on such a Redis; development warns.
 */
async function checkEvictionPolicy(config: Config, redis: RedisClient, logger: Logger): Promise<void> {
  for (const node of masters(redis)) {
    const reply = (await node.config('GET', 'maxmemory-policy').catch(() => [])) as string[];
    const policy = reply[1];
    if (policy === undefined || policy === 'noeviction') continue;
    const msg = `Redis maxmemory-policy is "${policy}"; it must be "noeviction" or holds and jobs can be lost`;
    if (config.NODE_ENV === 'production') throw new Error(msg);
    logger.warn(msg);
  }
}

/** An engine with its connections, without a worker or an HTTP listener (tests drive its app in-process). */
export interface OpenEngine {
  engine: Engine;
  /** the connection BullMQ workers use */
  queueConnection: RedisClient;
  /** closes the queues and the connections */
  close(): Promise<void>;
}

/** Connects everything, migrates, and loads products into Redis. */
export async function openEngine(config: Config, logger: Logger): Promise<OpenEngine> {
  for (const name of devSecretsInUse(config)) logger.warn(`${name} is the development default; set it before going live`);

  const redis = createRedis({ url: config.REDIS_URL, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, name: 'engine' });
  const queueConnection = createRedis({ url: config.REDIS_URL, commandTimeoutMs: 0, forQueue: true, name: 'queues' });
  const sql = createSql(config.DATABASE_URL);
  const durability = new RedisDurability(redis, config, logger);
  try {
    await Promise.all([redis.connect(), queueConnection.connect()]);
    await checkEvictionPolicy(config, redis, logger);
    const problem = await durability.check();
    if (problem) throw new Error(problem);
    durability.watch();
    await migrate(sql, logger);
  } catch (err) {
    redis.disconnect();
    queueConnection.disconnect();
    await sql.end({ timeout: 1 });
    throw err;
  }

  const keys = new Keys(config.KEY_PREFIX);
  const queues = new Queues(queueConnection, keys.queuePrefix, logger);
  const jobs = new ProductJobs(queues, logger);
  const engine = createEngine({ config, redis, durability, sql, keys, queues, jobs, logger });
  const loaded = await engine.products.loadAll();
  logger.info({ products: loaded }, 'products loaded into Redis');
  return {
    engine,
    queueConnection,
    async close() {
      await queues.close();
      await Promise.all([redis.quit().catch(() => {}), queueConnection.quit().catch(() => {})]);
      await sql.end({ timeout: 5 });
    },
  };
}

/** Opens the engine and starts the API and/or the worker. */
export async function startRuntime(config: Config, logger: Logger, opts: RuntimeOptions): Promise<Runtime> {
  const { engine, queueConnection, close } = await openEngine(config, logger);
  const workers: Workers | null = opts.worker ? await startWorkers(engine, queueConnection) : null;
  const { app, live } = createApp(engine);
  let port = 0;
  const server = opts.api
    ? await new Promise<ReturnType<typeof createAdaptorServer>>((resolve) => {
        const s = createAdaptorServer({ fetch: app.fetch });
        s.listen({ port: config.PORT, backlog: LISTEN_BACKLOG }, () => {
          port = (s.address() as AddressInfo).port;
          resolve(s);
        });
      })
    : null;
  server?.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    // a request Node's parser refuses (bad header bytes, ...) still gets a problem+json answer
    if (!socket.writable) return socket.destroy();
    const body = JSON.stringify(new AppError('invalid_request', `malformed HTTP request (${err.code ?? 'parse error'})`, { errors: [] }).toProblem());
    socket.end(`HTTP/1.1 400 Bad Request\r\ncontent-type: application/problem+json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  logger.info({ api: opts.api, worker: opts.worker, port }, 'engine started');

  return {
    engine,
    app,
    get port() {
      return port;
    },
    async close() {
      // stop accepting, let in-flight requests and jobs finish, then close connections
      if (server) {
        // an open dashboard stream never finishes by itself
        live.close();
        // in-flight requests get a while to finish; connections still open after that are cut
        const cut = setTimeout(() => 'closeAllConnections' in server && server.closeAllConnections(), SHUTDOWN_GRACE_MS);
        await new Promise<void>((resolve) => server.close(() => resolve()));
        clearTimeout(cut);
      }
      if (workers) await workers.close();
      await close();
      logger.info('engine stopped');
    },
  };
}
