import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import { readJson } from '../body.js';
import { requestLogger } from '../middleware/observe.js';
import { CreateOrderBody } from '../../contract.js';

export function orderRoutes(engine: Engine): Hono {
  return new Hono()
    .post('/', async (c) => {
      const { hold_id } = await readJson(c, CreateOrderBody);
      const { order, created } = await engine.orders.create(c.get('userId'), hold_id, requestLogger(c));
      return c.json(order, created ? 201 : 200);
    })
    .get('/:id', async (c) => c.json(await engine.orders.get(c.get('userId'), c.req.param('id'))));
}
