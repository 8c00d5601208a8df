import { Redis } from 'ioredis';
import { startRedisServer, type RedisServer } from './redis-server.js';

/** A private master and its replica, both with the same redis.conf directives. */
export interface RedisPair {
  master: RedisServer;
  replica: RedisServer;
  /** resolves once the master counts `replicas` (default 1) online replicas */
  online(replicas?: number): Promise<void>;
  stop(): Promise<void>;
}

const POLL_MS = 50;
const SYNC_TIMEOUT_MS = 15_000;

/**
 * Starts a master, then a replica of it, and waits until the replica is in sync. `link` may put
 * something between them (e.g. a proxy that delays the replication stream): given the master, it
 * returns the port the replica connects to.
 */
export async function startRedisPair(config: Record<string, string> = {}, link?: (master: RedisServer) => Promise<number>): Promise<RedisPair> {
  const master = await startRedisServer({ config });
  let replica: RedisServer | undefined;
  const stop = async () => {
    await Promise.all([master.stop(), replica?.stop()]);
  };
  const online = async (replicas = 1) => {
    const client = new Redis(master.url, { maxRetriesPerRequest: 1 });
    try {
      for (let waited = 0; ; waited += POLL_MS) {
        const info = await client.info('replication').catch(() => '');
        if ((info.match(/^slave\d+:.*state=online/gm) ?? []).length >= replicas) return;
        if (waited > SYNC_TIMEOUT_MS) throw new Error(`Redis ${master.url} has no ${replicas} online replicas after ${SYNC_TIMEOUT_MS} ms:\n${info}`);
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    } finally {
      client.disconnect();
    }
  };
  try {
    replica = await startRedisServer({ config: { ...config, replicaof: `127.0.0.1 ${link ? await link(master) : master.port}` } });
    await online();
  } catch (err) {
    await stop();
    throw err;
  }
  return { master, replica, online, stop };
}
