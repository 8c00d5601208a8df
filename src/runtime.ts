import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { devSecretsInUse, type Config } from './config.js';
import { migrate } from './db/migrate.js';
import { createSql } from './db/sql.js';
import { createEngine, type Engine } from './engine/engine.js';
import { createApp } from './http/app.js';
import { createHttpServer, listen } from './http/server.js';
import type { Metrics } from './http/metrics.js';
import { ProductJobs } from './jobs/product-jobs.js';
import { Queues } from './jobs/queues.js';
import { startWorkers, type Workers } from './jobs/worker.js';
import { createRedis, type RedisClient } from './redis/client.js';
import { masters, RedisDurability } from './redis/durability.js';
import { Keys } from './redis/keys.js';
import { Shutdown } from './shutdown.js';

export interface RuntimeOptions {
  api: boolean;
  worker: boolean;
}

export interface Runtime {
  engine: Engine;
  app: Hono;
  metrics: Metrics;
  /** the port the API listens on (0 when the API is not started) */
  port: number;
  /** shuts down within SHUTDOWN_TIMEOUT_MS; resolves with the steps that had to be cut off */
  close(): Promise<string[]>;
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
  /** closes the queues and the connections, as the last steps of `shutdown` (a fresh one by default) */
  close(shutdown?: Shutdown): Promise<string[]>;
}

/** Connects everything, migrates, and loads products into Redis. */
export async function openEngine(config: Config, logger: Logger): Promise<OpenEngine> {
  for (const name of devSecretsInUse(config)) logger.warn(`${name} accepts the development default; set it before going live`);

  const redis = createRedis({ url: config.REDIS_URL, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, name: 'engine' });
  const queueConnection = createRedis({ url: config.REDIS_URL, commandTimeoutMs: 0, forQueue: true, name: 'queues' });
  const watchRedis = createRedis({ url: config.REDIS_URL, commandTimeoutMs: config.REDIS_COMMAND_TIMEOUT_MS, name: 'engine-watch', forWatch: true });
  const redisClients = [redis, queueConnection, watchRedis];
  const sql = createSql(config.DATABASE_URL);
  const durability = new RedisDurability(redis, config, logger);
  try {
    await Promise.all(redisClients.map((client) => client.connect()));
    await checkEvictionPolicy(config, redis, logger);
    const problem = await durability.check();
    if (problem) throw new Error(problem);
    durability.watch();
    await migrate(sql, logger);
  } catch (err) {
    for (const client of redisClients) client.disconnect();
    await sql.end({ timeout: 1 });
    throw err;
  }

  const keys = new Keys(config.KEY_PREFIX);
  const queues = new Queues(queueConnection, keys.queuePrefix, logger);
  const jobs = new ProductJobs(queues, redis, keys, logger);
  const engine = createEngine({ config, redis, watchRedis, durability, sql, keys, queues, jobs, logger });
  const checked = await engine.recovery.checkAll();
  logger.info({ products: checked.length, rebuilt: checked.filter((p) => p.rebuilt).length }, 'products checked against Postgres');
  // a client that cannot quit (Redis gone) is still disconnected, or it would go on reconnecting
  const quit = (client: RedisClient) => client.quit().catch(() => client.disconnect());
  return {
    engine,
    queueConnection,
    async close(shutdown = new Shutdown(config.SHUTDOWN_TIMEOUT_MS, logger)) {
      await Promise.all([
        shutdown.step(
          'redis',
          Shutdown.CONNECTIONS_BY,
          async () => {
            // what the last requests scheduled, before the connection goes
            await jobs.flush();
            await queues.close();
            await Promise.all(redisClients.map(quit));
          },
          () => {
            for (const client of redisClients) client.disconnect();
          },
        ),
        // queries still running are waited for; if cut off, the process's exit ends their connections
        shutdown.step('postgres', Shutdown.CONNECTIONS_BY, () => sql.end()),
      ]);
      return shutdown.cutOff;
    },
  };
}

/** Opens the engine and starts the API and/or the worker. */
export async function startRuntime(config: Config, logger: Logger, opts: RuntimeOptions): Promise<Runtime> {
  const { engine, queueConnection, close } = await openEngine(config, logger);
  const workers: Workers | null = opts.worker ? await startWorkers(engine, queueConnection) : null;
  const { app, metrics, live } = createApp(engine);
  const http = opts.api ? createHttpServer(app, config, metrics) : null;
  const port = http ? await listen(http.server, config.PORT) : 0;
  logger.info({ api: opts.api, worker: opts.worker, port }, 'engine started');

  return {
    engine,
    app,
    metrics,
    port,
    async close() {
      // stop accepting, let in-flight requests and jobs finish, then close connections
      const shutdown = new Shutdown(config.SHUTDOWN_TIMEOUT_MS, logger);
      if (http) {
        // an open dashboard stream never finishes by itself
        live.close();
        await shutdown.step('requests', Shutdown.REQUESTS_BY, () => http.drain(), () => http.server.closeAllConnections());
      }
      if (workers) await shutdown.step('jobs', Shutdown.JOBS_BY, () => workers.close(), () => workers.disconnect());
      const cutOff = await close(shutdown);
      logger.info({ cutOff }, 'engine stopped');
      return cutOff;
    },
  };
}
