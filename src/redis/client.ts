import { Redis } from 'ioredis';
import { defineScripts } from './scripts.js';

export interface RedisClientOptions {
  url: string;
  commandTimeoutMs: number;
  /** BullMQ workers need blocking commands without a timeout and unlimited retries. */
  forQueue?: boolean;
  name?: string;
}

/**
 * A client for the hot path fails fast while Redis is away (no offline queue, one retry, a command
 * timeout), so requests answer 503 at once instead of hanging; it reconnects by itself.
 */
export function createRedis(opts: RedisClientOptions): Redis {
  const redis = opts.forQueue
    ? new Redis(opts.url, { maxRetriesPerRequest: null, connectionName: opts.name, lazyConnect: true })
    : new Redis(opts.url, {
        commandTimeout: opts.commandTimeoutMs,
        maxRetriesPerRequest: 1,
        enableOfflineQueue: false,
        connectionName: opts.name,
        lazyConnect: true,
        retryStrategy: (times) => Math.min(50 * times, 1000),
      });
  // connection errors are reported through readiness and request failures; do not crash on them
  redis.on('error', () => {});
  return defineScripts(redis);
}
