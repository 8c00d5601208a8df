import { Hono } from 'hono';
import type { Metrics } from '../metrics.js';

export function metricsRoutes(metrics: Metrics): Hono {
  return new Hono().get('/', async (c) => c.text(await metrics.render(), 200, { 'content-type': metrics.contentType }));
}
