import { execFileSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { createProduct } from '../../bench/lib/engine-api.js';
import { loadConfig } from '../../src/config.js';
import { Hold } from '../../src/contract.js';
import { signJwt } from '../../src/http/jwt.js';
import { createLogger } from '../../src/logger.js';
import { Keys, parseId } from '../../src/redis/keys.js';
import { startRuntime } from '../../src/runtime.js';
import { Shutdown } from '../../src/shutdown.js';
import { startEngineProcess } from '../../src/tools/engine-process.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { createTestDatabase, rawRedis } from '../support/harness.js';
import { startKeepAliveClients } from '../support/keep-alive-clients.js';

describe('process lifecycle', () => {
  it('SIGTERM: in-flight requests finish, then the process exits 0', async () => {
    const engine = await startEngineProcess({ redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl') });
    try {
      const id = await createProduct(engine, 'shutdown', 100);
      const exp = Math.floor(Date.now() / 1000) + 600;
      const inFlight = Array.from({ length: 300 }, (_, i) =>
        fetch(`${engine.url}/api/holds`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${signJwt(engine.jwtSecret, { sub: `u${i}`, exp })}` },
          body: JSON.stringify({ product_id: id, qty: 1 }),
        }).then((r) => r.status, () => 'connection refused' as const),
      );
      // let the first requests reach the server, then ask it to stop
      await new Promise((r) => setTimeout(r, 30));
      const exit = new Promise<number | null>((resolve) => engine.child.once('exit', (code) => resolve(code)));
      engine.child.kill('SIGTERM');
      const statuses = await Promise.all(inFlight);
      expect(await exit).toBe(0);
      const answered = statuses.filter((s) => s !== 'connection refused');
      expect(answered.length).toBeGreaterThan(0);
      // every request the server took in was answered properly: no resets, no 5xx
      expect(answered.every((s) => s === 201 || s === 409)).toBe(true);
    } finally {
      await engine.stop();
    }
  });

  it('SIGTERM amid busy keep-alive clients: each request sent is answered, the last with Connection: close, then connections are refused; exit 0 at once', async () => {
    const budgetMs = 10_000;
    const engine = await startEngineProcess({
      redisUrl: inject('redisUrl'),
      postgresUrl: inject('postgresUrl'),
      env: { SHUTDOWN_TIMEOUT_MS: String(budgetMs), RATE_LIMIT_PER_SECOND: '0' },
    });
    const redis = rawRedis();
    try {
      const id = await createProduct(engine, 'keep-alive-shutdown', 1_000_000);
      const exp = Math.floor(Date.now() / 1000) + 600;
      const tokens = Array.from({ length: 4 }, (_, i) => signJwt(engine.jwtSecret, { sub: `keep-alive-${i}`, exp }));
      const clients = startKeepAliveClients(engine.url, tokens.length, (client) => ({
        method: 'POST',
        path: '/api/holds',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[client]}` },
        body: JSON.stringify({ product_id: id, qty: 1 }),
      }));
      await expect.poll(() => clients.answered(), { timeout: 10_000 }).toBeGreaterThan(200);
      const exit = new Promise<number | null>((resolve) => engine.child.once('exit', (code) => resolve(code)));
      const sigterm = Date.now();
      engine.child.kill('SIGTERM');
      const code = await exit;
      const tookMs = Date.now() - sigterm;
      const byClient = await clients.outcomes;

      // each client was told to close its connection, and its next one was refused: no request was cut
      // off, none reset unanswered
      for (const outcomes of byClient) {
        expect(outcomes.at(-1)).toEqual({ kind: 'refused' });
        expect(outcomes.at(-2)).toMatchObject({ kind: 'answered', connectionClose: true });
      }
      const answers = byClient.flat().filter((o) => o.kind === 'answered');
      expect(answers.filter((a) => a.status !== 201)).toEqual([]);
      // the holds in Redis are exactly those the 201s name
      const placed = answers.map((a) => parseId('h', Hold.parse(JSON.parse(a.body)).id)!.seq);
      const inRedis = await redis.hkeys(new Keys(engine.keyPrefix).product(id).holds);
      expect(inRedis.sort()).toEqual(placed.sort());
      // nothing had to be cut off: the requests step ended long before its mark
      expect(code).toBe(0);
      expect(tookMs).toBeLessThan(budgetMs * Shutdown.REQUESTS_BY);
    } finally {
      redis.disconnect();
      await engine.stop();
    }
  });

  it('production refuses a Redis that may evict keys; development only warns', async () => {
    const redis = await startRedisServer();
    const db = await createTestDatabase();
    try {
      execFileSync('redis-cli', ['-p', String(redis.port), 'config', 'set', 'maxmemory-policy', 'allkeys-lru']);
      const base = { REDIS_URL: redis.url, DATABASE_URL: db.url, PORT: '0', LOG_LEVEL: 'silent' };
      const secrets = { JWT_SECRET: 'x'.repeat(20), ADMIN_TOKEN: 'y'.repeat(20), WEBHOOK_SECRET: 'z'.repeat(20) };
      const prod = loadConfig({ ...base, ...secrets, NODE_ENV: 'production' });
      await expect(startRuntime(prod, createLogger('silent'), { api: false, worker: false })).rejects.toThrow(/maxmemory-policy is "allkeys-lru"/);
      const dev = loadConfig({ ...base, NODE_ENV: 'development' });
      const runtime = await startRuntime(dev, createLogger('silent'), { api: false, worker: false });
      await runtime.close();
    } finally {
      await db.drop();
      await redis.stop();
    }
  });
});
