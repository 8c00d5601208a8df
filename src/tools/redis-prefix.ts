import { Cluster, type Redis } from 'ioredis';

/** Deletes every key under a prefix (only what one engine or test created), on every cluster master. */
export async function dropPrefix(redis: Redis | Cluster, prefix: string): Promise<void> {
  for (const node of redis instanceof Cluster ? redis.nodes('master') : [redis]) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      // one key per command: in a cluster the keys of one batch may live in different slots
      await Promise.all(keys.map((key) => node.unlink(key)));
    } while (cursor !== '0');
  }
}
