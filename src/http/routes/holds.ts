import { header } from '../header.js';
import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import { engineMetrics, type Metrics } from '../metrics.js';
import { readJson } from '../body.js';
import { parseIdempotencyKey } from '../idempotency-key.js';
import { CreateHoldBody } from '../../contract.js';
import { problemResponse } from '../problem.js';
import { requestLogger } from '../middleware/observe.js';

export function holdRoutes(engine: Engine, metrics: Metrics): Hono {
  // the engine reports every hold outcome, including the sold-out shortcut's; this app counts them
  engine.observe(engineMetrics(metrics));
  return new Hono()
    .post('/', async (c) => {
      const key = parseIdempotencyKey(header(c, 'idempotency-key'));
      const body = await readJson(c, CreateHoldBody);
      let answer = engine.holds.place(c.get('userId'), body.product_id, body.qty, key);
      // (a product known to be sold out is answered without a promise)
      if (answer instanceof Promise) answer = await answer;
      if (!answer.ok) return problemResponse(c, answer.error);
      if (answer.replayed) c.header('idempotent-replayed', 'true');
      return c.json(answer.hold, 201);
    })
    .get('/:id', async (c) => c.json(await engine.holds.get(c.req.param('id'), c.get('userId'))))
    .delete('/:id', async (c) => c.json(await engine.holds.release(c.req.param('id'), c.get('userId'), requestLogger(c))));
}
