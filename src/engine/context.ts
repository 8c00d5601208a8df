import { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/client.js';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Sql } from '../db/sql.js';
import type { ProductJobs } from '../jobs/product-jobs.js';
import type { Queues } from '../jobs/queues.js';
import type { RedisDurability } from '../redis/durability.js';
import type { Keys } from '../redis/keys.js';

/** What every engine system works with; built once per process (or per test) by `createEngine`. */
export interface EngineContext {
  config: Config;
  redis: RedisClient;
  /** a connection of its own for transactions that WATCH keys: on the shared one, another caller's EXEC would clear the WATCH */
  watchRedis: RedisClient;
  /** the masters' persistence, and the wait for replicas after a request's writes */
  durability: RedisDurability;
  sql: Sql;
  keys: Keys;
  queues: Queues;
  jobs: ProductJobs;
  logger: Logger;
}

/**
 * The group of a product's keys: products of one group may share a script call. One group on a
 * standalone Redis; on a Cluster, the products whose keys share a slot.
 */
export function callGroupOf(ctx: Pick<EngineContext, 'redis' | 'keys'>): (productId: string) => number {
  return ctx.redis instanceof Cluster ? (productId) => ctx.keys.productSlot(productId) : () => 0;
}
