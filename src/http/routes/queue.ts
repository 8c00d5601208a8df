import { Hono, type Context } from 'hono';
import type { Engine } from '../../engine/engine.js';
import { AppError } from '../../errors.js';
import { PRODUCT_ID_PATTERN } from '../../redis/keys.js';
import { requestLogger } from '../middleware/observe.js';

function productId(c: Context): string {
  const id = c.req.param('id');
  if (!id || !PRODUCT_ID_PATTERN.test(id)) throw new AppError('product_not_found');
  return id;
}

/**
 * A product's waiting room or raffle: `POST /:id/queue` joins (201 the first time, 200 with the same
 * ticket after), `GET /:id/queue` reads the caller's ticket, `GET /:id/draw` is the raffle's public record.
 */
export function queueRoutes(engine: Engine): Hono {
  return new Hono()
    .post('/:id/queue', async (c) => {
      const { ticket, joined } = await engine.admission.join(c.get('userId'), productId(c), requestLogger(c));
      return c.json(ticket, joined ? 201 : 200);
    })
    .get('/:id/queue', async (c) => c.json(await engine.admission.read(c.get('userId'), productId(c))))
    .get('/:id/draw', async (c) => c.json(await engine.raffle.view(productId(c))));
}
