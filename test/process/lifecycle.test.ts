import { execFileSync } from 'node:child_process';
import { describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { AdminProduct } from '../../src/contract.js';
import { signJwt } from '../../src/http/jwt.js';
import { createLogger } from '../../src/logger.js';
import { startRuntime } from '../../src/runtime.js';
import { startEngineProcess } from '../../src/tools/engine-process.js';
import { startRedisServer } from '../../src/tools/redis-server.js';
import { body } from '../support/answers.js';
import { createTestDatabase } from '../support/harness.js';

describe('process lifecycle', () => {
  it('SIGTERM: in-flight requests finish, then the process exits 0', async () => {
    const engine = await startEngineProcess({ redisUrl: inject('redisUrl'), postgresUrl: inject('postgresUrl') });
    try {
      const created = await fetch(`${engine.url}/api/admin/products`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${engine.adminToken}` },
        body: JSON.stringify({ name: 'Shutdown', unit_price_minor: 100, currency: 'EUR', stock: 100 }),
      });
      const { id } = await body(created, AdminProduct);
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
