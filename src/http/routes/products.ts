import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import { PRODUCT_ID_PATTERN } from '../../redis/keys.js';
import { AppError } from '../../errors.js';

export function productRoutes(engine: Engine): Hono {
  return new Hono().get('/:id', async (c) => {
    const id = c.req.param('id');
    if (!PRODUCT_ID_PATTERN.test(id)) throw new AppError('product_not_found');
    return c.json(await engine.products.publicView(id));
  });
}
