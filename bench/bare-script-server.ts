/**
 * The floor of any Redis-backed hold: the plain endpoint plus one trivial Lua script per request (it
 * decrements a counter; no batching, authentication or validation). Listens on a free port (or PORT) and
 * prints `{"port":N}` as its first stdout line, like plain-server.ts; its one key goes on SIGTERM.
 */
import { randomBytes } from 'node:crypto';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Redis } from 'ioredis';

const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
redis.defineCommand('takeOne', { numberOfKeys: 1, lua: "return redis.call('DECR', KEYS[1])" });
const takeOne = (key: string) => (redis as unknown as { takeOne(key: string): Promise<number> }).takeOne(key);
const key = `bench-bare-script:${randomBytes(4).toString('hex')}`;
await redis.set(key, 1e12);

const app = new Hono();
app.post('/json', async (c) => c.json({ ok: true, left: await takeOne(key), echo: await c.req.json() }, 201));

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  console.log(JSON.stringify({ port: info.port }));
});
process.on('SIGTERM', () => {
  void redis.del(key).finally(() => {
    redis.disconnect();
    server.close(() => process.exit(0));
  });
});
