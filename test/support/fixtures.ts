/**
 * Vitest fixtures for what a test file needs from the outside world: an engine, a private Redis, a
 * database, a key prefix. Each one is created for the file (or the test) that asks for it and torn
 * down after it, dependents first: an engine on a private Redis is closed before that Redis stops.
 *
 * A file configures its engine at its top level, e.g.
 *   test.override('engineEnv', { HOLD_TTL_MS: '1000' });
 *   test.override('engineEnv', ({ privateRedis }) => ({ REDIS_URL: privateRedis.url }));
 * and receives it in a hook or a test: `test.beforeAll(({ harness }) => ...)`.
 */
import { inject, test as base } from 'vitest';
import { dropPrefix } from '../../src/tools/redis-prefix.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { createTestDatabase, rawRedis, startHarness, uniq, type Harness, type HarnessOptions } from './harness.js';
import { startPrivateCluster } from './redis-cluster.js';
import { startTcpProxy } from './tcp-proxy.js';

export const test = base
  /** engine settings on top of the harness defaults */
  .extend('engineEnv', { scope: 'file' }, {} as Record<string, string>)
  .extend('harnessOptions', { scope: 'file' }, {} as HarnessOptions)
  /** the file's engine, on its own key prefix and database */
  .extend('harness', { scope: 'file' }, async ({ engineEnv, harnessOptions }, { onCleanup }) => {
    const harness = await startHarness(engineEnv, harnessOptions);
    onCleanup(() => harness.close());
    return harness;
  })
  /** starts further engines (other settings), all closed when the file is done */
  .extend('startEngine', { scope: 'file' }, async ({}, { onCleanup }) => {
    const started: Harness[] = [];
    onCleanup(async () => {
      await Promise.all(started.map((h) => h.close()));
    });
    return async (env: Record<string, string> = {}, opts: HarnessOptions = {}): Promise<Harness> => {
      const harness = await startHarness(env, opts);
      started.push(harness);
      return harness;
    };
  })
  /** a redis-server of the file's own, which its tests may crash and restart */
  .extend('privateRedis', { scope: 'file' }, async ({}, { onCleanup }) => {
    const server = await startRedisServer();
    onCleanup(() => server.stop());
    return server;
  })
  /** a 3-master Redis Cluster of the file's own */
  .extend('privateCluster', { scope: 'file' }, async ({}, { onCleanup }) => {
    const cluster = await startPrivateCluster();
    onCleanup(() => cluster.stop());
    return cluster;
  })
  /** a TCP proxy in front of the test Postgres server, to cut or slow it */
  .extend('postgresProxy', { scope: 'file' }, async ({}, { onCleanup }) => {
    const server = new URL(inject('postgresUrl'));
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 5432));
    onCleanup(() => proxy.close());
    return proxy;
  })
  /** a TCP proxy in front of the test Redis server, to cut, slow or hold back one engine's commands */
  .extend('redisProxy', { scope: 'file' }, async ({}, { onCleanup }) => {
    const server = new URL(inject('redisUrl'));
    const proxy = await startTcpProxy(server.hostname, Number(server.port || 6379));
    onCleanup(() => proxy.close());
    return proxy;
  })
  /** a fresh database on the test Postgres server */
  .extend('database', { scope: 'file' }, async ({}, { onCleanup }) => {
    const db = await createTestDatabase();
    onCleanup(() => db.drop());
    return db;
  })
  /** a client of the test Redis with the engine's scripts */
  .extend('redis', { scope: 'file' }, async ({}, { onCleanup }) => {
    const redis = rawRedis();
    onCleanup(() => redis.disconnect());
    return redis;
  })
  /** a key prefix of the test's own on the test Redis; its keys are deleted after the test */
  .extend('redisPrefix', async ({ redis }, { onCleanup }) => {
    const prefix = uniq('t');
    onCleanup(() => dropPrefix(redis, prefix));
    return prefix;
  });
