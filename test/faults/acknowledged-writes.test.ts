import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { createProduct } from '../../bench/lib/engine-api.js';
import { AcknowledgedWrites } from '../../loadtests/lib/acknowledged-writes.js';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import { startRedisPair } from '../../src/tools/redis-replicas.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * Acknowledged means durable, with real processes: an engine (API and worker) under a mixed load while
 * its Redis is killed, and every write it acknowledged checked once the fault has settled.
 */

const FSYNC_ALWAYS = { appendonly: 'yes', appendfsync: 'always' };
const KILL_ROUNDS = 3;
const CUSTOMERS = 8;
const READY_TIMEOUT_MS = 20_000;
/** Each way on the replication link: without the wait for the replica, the last writes are not there yet at a failover. */
const REPLICATION_DELAY_MS = 100;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const between = (min: number, max: number) => min + Math.random() * (max - min);

async function startEngine(redisUrl: string, env: Record<string, string>): Promise<EngineProcess> {
  return startEngineProcess({ redisUrl, postgresUrl: inject('postgresUrl'), env: { RATE_LIMIT_PER_SECOND: '0', LOG_LEVEL: 'error', ...env } });
}

async function ready(engine: EngineProcess): Promise<void> {
  await expect
    .poll(async () => (await fetch(`${engine.url}/health/ready`).catch(() => null))?.status, { timeout: READY_TIMEOUT_MS, interval: 100 })
    .toBe(200);
}

/** Runs the mixed load while `faults` runs, then checks every acknowledged write. */
async function underLoad(engine: EngineProcess, faults: () => Promise<void>): Promise<void> {
  const products = await Promise.all([1, 2, 3].map((n) => createProduct(engine, `durable-${n}`, 1_000_000)));
  const writes = new AcknowledgedWrites(engine, products);
  const load = writes.run(CUSTOMERS);
  try {
    await faults();
  } finally {
    writes.stop();
    await load;
  }
  expect(writes.acknowledged).toBeGreaterThan(0);
  expect(await writes.verify()).toEqual([]);
}

describe('acknowledged means durable', () => {
  it('REDIS_DURABILITY=fsync: Redis SIGKILLed at random moments and restarted from its AOF loses no acknowledged write', async () => {
    const redis = await startRedisServer({ config: FSYNC_ALWAYS });
    const engine = await startEngine(redis.url, { REDIS_DURABILITY: 'fsync' });
    try {
      await underLoad(engine, async () => {
        for (let round = 0; round < KILL_ROUNDS; round++) {
          await sleep(between(300, 1500));
          await redis.kill();
          await sleep(between(100, 400));
          await redis.start();
          // the engine rides it out by itself: reconnected, scripts loaded again, ready
          await ready(engine);
        }
        await sleep(500);
      });
    } finally {
      await engine.stop();
      await redis.stop();
    }
  });

  it('REDIS_REPLICA_ACKS=1: a replica promoted after its master is SIGKILLed mid-load has every acknowledged write', async () => {
    let replication: TcpProxy | undefined;
    const pair = await startRedisPair(FSYNC_ALWAYS, async (master) => {
      replication = await startTcpProxy('127.0.0.1', master.port);
      replication.setDelay(REPLICATION_DELAY_MS);
      return replication.port;
    });
    // the engine reaches "the master" through a proxy that the failover points at the promoted replica
    const proxy = await startTcpProxy('127.0.0.1', pair.master.port);
    const engine = await startEngine(proxy.wrap(pair.master.url), { REDIS_DURABILITY: 'fsync', REDIS_REPLICA_ACKS: '1' });
    try {
      await underLoad(engine, async () => {
        await sleep(between(500, 1500));
        await pair.master.kill();
        const promoted = new Redis(pair.replica.url);
        try {
          await promoted.replicaof('NO', 'ONE');
        } finally {
          promoted.disconnect();
        }
        proxy.retarget('127.0.0.1', pair.replica.port);
        await ready(engine);
        await sleep(1000);
      });
    } finally {
      await engine.stop();
      await proxy.close();
      await pair.stop();
      await replication?.close();
    }
  });
});
