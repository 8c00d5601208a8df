import { Hono } from 'hono';
import { CreateWebhookEndpointBody } from '../../contract.js';
import type { Engine } from '../../engine/engine.js';
import { readJson } from '../body.js';
import { requestLogger } from '../middleware/observe.js';

/** Outbound event endpoints and their deliveries (mounted under /api/admin). */
export function webhookEndpointRoutes(engine: Engine): Hono {
  const endpoints = engine.webhookEndpoints;
  return new Hono()
    .post('/webhook-endpoints', async (c) => c.json(await endpoints.create(await readJson(c, CreateWebhookEndpointBody), requestLogger(c)), 201))
    .get('/webhook-endpoints', async (c) => c.json({ endpoints: await endpoints.list() }))
    .get('/webhook-endpoints/:id', async (c) => c.json(await endpoints.get(c.req.param('id'))))
    .delete('/webhook-endpoints/:id', async (c) => {
      await endpoints.remove(c.req.param('id'), requestLogger(c));
      return c.body(null, 204);
    })
    .post('/webhook-endpoints/:id/enable', async (c) => c.json(await endpoints.enable(c.req.param('id'), requestLogger(c))))
    .get('/webhook-endpoints/:id/deliveries', async (c) => c.json({ deliveries: await endpoints.deliveries(c.req.param('id')) }))
    .post('/webhook-deliveries/:id/redeliver', async (c) => c.json(await endpoints.redeliver(c.req.param('id'), requestLogger(c)), 202));
}
