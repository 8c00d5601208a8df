import { Socket } from 'node:net';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { defineScripts } from './scripts.js';

/** One Redis, or a Redis Cluster (REDIS_URL lists several nodes, comma-separated). */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  url: string;
  commandTimeoutMs: number;
  /** BullMQ workers need blocking commands without a timeout and unlimited retries. */
  forQueue?: boolean;
  /**
   * A client that WATCHes keys: a Cluster's redirections and resends could send the EXEC to a connection
   * the WATCH was not set on, so they fail instead.
   */
  forWatch?: boolean;
  name?: string;
}

/** TLS and credentials of a cluster's nodes, taken from the first URL (`rediss://user:pass@host`). */
function credentials(url: URL): RedisOptions {
  return {
    username: decodeURIComponent(url.username) || undefined,
    password: decodeURIComponent(url.password) || undefined,
    tls: url.protocol === 'rediss:' ? {} : undefined,
  };
}

/**
 * A client for the hot path fails fast while Redis is away (no offline queue, one retry, a command
 * timeout), so requests answer 503 at once instead of hanging; it reconnects by itself. A command
 * unanswered when the connection drops fails too rather than being sent again after the reconnect: the
 * Redis that answers then may be an older copy, which the engine checks before serving (Recovery).
 */
export function createRedis(opts: RedisClientOptions): RedisClient {
  const options: RedisOptions = opts.forQueue
    ? { maxRetriesPerRequest: null, connectionName: opts.name }
    : {
        commandTimeout: opts.commandTimeoutMs,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        connectionName: opts.name,
        retryStrategy: (times) => Math.min(50 * times, 1000),
      };
  const urls = opts.url.split(',').map((u) => u.trim());
  const redis: RedisClient =
    urls.length > 1
      ? new Cluster(
          urls.map((u) => ({ host: new URL(u).hostname, port: Number(new URL(u).port || 6379) })),
          {
            lazyConnect: true,
            enableOfflineQueue: options.enableOfflineQueue ?? true,
            clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
            ...(opts.forWatch ? { maxRedirections: 0 } : {}),
            redisOptions: { ...options, ...credentials(new URL(urls[0]!)) },
          },
        )
      : new Redis(opts.url, { ...options, lazyConnect: true });
  // connection errors are reported through readiness and request failures; do not crash on them
  redis.on('error', () => {});
  return defineScripts(redis);
}

const corked = new WeakSet<object>();

/**
 * Holds back this client's socket writes until the event loop's check phase, so the commands of every
 * request handled in this turn leave in one write instead of one write each (a standalone Redis only).
 */
export function batchWrites(redis: RedisClient): void {
  if (redis instanceof Cluster || corked.has(redis)) return;
  const stream = (redis as unknown as { stream?: unknown }).stream;
  if (!(stream instanceof Socket) || stream.destroyed) return;
  corked.add(redis);
  stream.cork();
  setImmediate(() => {
    corked.delete(redis);
    stream.uncork();
  });
}
