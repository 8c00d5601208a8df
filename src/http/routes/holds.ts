import { header } from '../header.js';
import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import type { Metrics } from '../metrics.js';
import { readJson } from '../body.js';
import { parseIdempotencyKey } from '../idempotency-key.js';
import { CreateHoldBody } from '../../contract.js';
import { AppError } from '../../errors.js';
import { SOLD_OUT } from '../../engine/holds.js';
import { problemResponse } from '../problem.js';

export function holdRoutes(engine: Engine, metrics: Metrics): Hono {
  const rejectedHelp = 'Hold requests refused, by code.';
  const rejected = (err: AppError) => metrics.inc('holds_rejected_total', rejectedHelp, { code: err.code });
  // the two series every request of a stampede counts, kept rather than looked up per request
  const soldOut = metrics.counter('holds_rejected_total', rejectedHelp, { code: SOLD_OUT.code });
  const created = metrics.counter('holds_created_total', 'Holds placed.');
  return new Hono()
    .post('/', async (c) => {
      const key = parseIdempotencyKey(header(c, 'idempotency-key'));
      const body = await readJson(c, CreateHoldBody);
      // the stampede's common answer, returned rather than thrown: no Redis, no exception
      if (engine.holds.knownSoldOut(body.product_id, key)) {
        soldOut.inc();
        return problemResponse(c, SOLD_OUT);
      }
      try {
        const { hold, replayed } = await engine.holds.create(c.get('userId'), body.product_id, body.qty, key);
        if (replayed) c.header('idempotent-replayed', 'true');
        else created.inc();
        return c.json(hold, 201);
      } catch (err) {
        if (err instanceof AppError) rejected(err);
        throw err;
      }
    })
    .get('/:id', async (c) => c.json(await engine.holds.get(c.req.param('id'), c.get('userId'))))
    .delete('/:id', async (c) => c.json(await engine.holds.release(c.req.param('id'), c.get('userId'))));
}
