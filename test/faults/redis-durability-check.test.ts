import { Redis } from 'ioredis';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { HealthReady } from '../../src/contract.js';
import { createLogger } from '../../src/logger.js';
import { openEngine } from '../../src/runtime.js';
import { startRedisServer, type RedisServer } from '../../src/tools/redis-server.js';
import { answer } from '../support/answers.js';
import { startHarness } from '../support/harness.js';

/** REDIS_DURABILITY=fsync: the engine refuses a Redis that does not fsync every write, at start and after a reconnect. */

const FSYNC_ALWAYS = { appendonly: 'yes', appendfsync: 'always' };

async function withRedis(opts: Parameters<typeof startRedisServer>[0], run: (server: RedisServer) => Promise<void>): Promise<void> {
  const server = await startRedisServer(opts);
  try {
    await run(server);
  } finally {
    await server.stop();
  }
}

/** Opening an engine on `redisUrl` must fail before it touches Postgres. */
async function refusesToOpen(redisUrl: string, message: RegExp): Promise<void> {
  const config = loadConfig({ REDIS_URL: redisUrl, DATABASE_URL: inject('postgresUrl'), REDIS_DURABILITY: 'fsync', LOG_LEVEL: 'silent' });
  await expect(openEngine(config, createLogger('silent'))).rejects.toThrow(message);
}

/** Drops the engine's connections (named `engine`) so that they reconnect, as after a network blip. */
async function dropEngineConnections(admin: Redis): Promise<void> {
  const list = (await admin.client('LIST')) as string;
  for (const line of list.split('\n').filter((l) => / name=engine /.test(l))) {
    await admin.client('KILL', 'ID', /^id=(\d+)/.exec(line)![1]!);
  }
}

describe('REDIS_DURABILITY=fsync', () => {
  it('refuses to start on a Redis without appendonly, naming the setting and the fix', async () => {
    await withRedis({}, async (server) => {
      await refusesToOpen(server.url, /appendonly "no", REDIS_DURABILITY=fsync needs "yes": set "appendonly yes" and "appendfsync always"/);
    });
  });

  it('refuses appendfsync everysec', async () => {
    await withRedis({ config: { appendonly: 'yes', appendfsync: 'everysec' } }, async (server) => {
      await refusesToOpen(server.url, /appendfsync "everysec", REDIS_DURABILITY=fsync needs "always"/);
    });
  });

  it('where CONFIG is unavailable, asks the operator to state the mode; fsync-unverified then starts', async () => {
    await withRedis({ extraArgs: ['--rename-command', 'CONFIG', ''] }, async (server) => {
      await refusesToOpen(server.url, /CONFIG GET is unavailable on Redis 127\.0\.0\.1:\d+ .*set REDIS_DURABILITY=fsync-unverified/);
      const h = await startHarness({ REDIS_URL: server.url, REDIS_DURABILITY: 'fsync-unverified' }, { inProcess: true });
      try {
        expect((await h.request('GET', '/health/ready')).status).toBe(200);
      } finally {
        await h.close();
      }
    });
  });

  it('starts on appendfsync always; after a reconnect finds it weakened, is not ready until it is restored', async () => {
    await withRedis({ config: FSYNC_ALWAYS }, async (server) => {
      const h = await startHarness({ REDIS_URL: server.url, REDIS_DURABILITY: 'fsync' }, { inProcess: true });
      const admin = new Redis(server.url);
      const ready = async () => answer(h.request('GET', '/health/ready'), HealthReady);
      try {
        expect((await ready()).status).toBe(200);
        await admin.config('SET', 'appendfsync', 'everysec');
        await dropEngineConnections(admin);
        await expect.poll(async () => (await ready()).body.checks.redis, { timeout: 10_000, interval: 100 }).toMatch(/appendfsync "everysec", REDIS_DURABILITY=fsync needs "always"/);
        expect((await ready()).status).toBe(503);

        await admin.config('SET', 'appendfsync', 'always');
        await dropEngineConnections(admin);
        await expect.poll(async () => (await ready()).status, { timeout: 10_000, interval: 100 }).toBe(200);
      } finally {
        admin.disconnect();
        await h.close();
      }
    });
  });
});
