import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import { AppError } from '../../errors.js';
import { PRODUCT_ID_PATTERN } from '../../redis/keys.js';
import { readJson, readQuery } from '../body.js';
import { requestLogger } from '../middleware/observe.js';
import { CreateProductBody, PatchProductBody, ReconcileQuery, RecoverBody } from '../../contract.js';

function productId(id: string): string {
  if (!PRODUCT_ID_PATTERN.test(id)) throw new AppError('product_not_found');
  return id;
}

export function adminRoutes(engine: Engine): Hono {
  return new Hono()
    .post('/products', async (c) => c.json(await engine.products.create(await readJson(c, CreateProductBody), requestLogger(c)), 201))
    .get('/products/:id', async (c) => c.json(await engine.products.adminView(productId(c.req.param('id')))))
    .patch('/products/:id', async (c) => {
      const id = productId(c.req.param('id'));
      return c.json(await engine.products.patch(id, await readJson(c, PatchProductBody), requestLogger(c)));
    })
    .delete('/holds/:id', async (c) => c.json(await engine.holds.release(c.req.param('id'), null, requestLogger(c))))
    .post('/reconcile', async (c) => c.json(await engine.reconciler.run(readQuery(c, ReconcileQuery).dry_run !== 'true', requestLogger(c))))
    // on demand, everything received until now: a request still applying its event makes the other answer duplicate
    .post('/payments/reapply', async (c) => c.json(await engine.inbox.recover({ minAgeMs: 0 }, requestLogger(c))))
    .post('/recover', async (c) => c.json(await engine.recovery.run({ ...(await readJson(c, RecoverBody)), request: true }, requestLogger(c))));
}
