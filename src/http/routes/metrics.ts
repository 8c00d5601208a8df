import { Hono } from 'hono';
import type { Engine } from '../../engine/engine.js';
import type { Metrics } from '../metrics.js';

const STOCK_TERMS = ['total', 'available', 'held', 'pending_payment', 'sold'] as const;

export function metricsRoutes(engine: Engine, metrics: Metrics): Hono {
  return new Hono().get('/', async (c) => {
    const { redis, keys, queues } = engine.ctx;
    const ids = await redis.smembers(keys.productIndex);
    const stocks = await Promise.all(ids.map(async (id) => [id, await engine.products.stock(id)] as const));
    const depths = await queues.depths().catch(() => ({}));
    const text = metrics.render([
      {
        name: 'product_stock_units',
        help: 'Stock of each product by state.',
        samples: stocks.flatMap(([product, s]) => STOCK_TERMS.map((state) => ({ labels: { product, state }, value: s[state] }))),
      },
      {
        name: 'queue_jobs',
        help: 'Background jobs by queue and state (failed = retries exhausted).',
        samples: Object.entries(depths).flatMap(([queue, counts]) =>
          Object.entries(counts as Record<string, number>).map(([state, value]) => ({ labels: { queue, state }, value })),
        ),
      },
    ]);
    return c.text(text, 200, { 'content-type': 'text/plain; version=0.0.4' });
  });
}
