/**
 * The baseline: the smallest Hono JSON POST endpoint on @hono/node-server. Listens on a free port (or
 * PORT) and prints `{"port":N}` as its first stdout line.
 */
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const app = new Hono();
app.post('/json', async (c) => c.json({ ok: true, echo: await c.req.json() }, 201));

const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 0), hostname: '127.0.0.1' }, (info) => {
  console.log(JSON.stringify({ port: info.port }));
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
