import { Hono } from 'hono';
import type { Engine } from '../engine/engine.js';
import { AppError } from '../errors.js';
import { MAX_BODY_BYTES } from './body.js';
import { tokenVerifier } from './idp-tokens.js';
import { registerEngineGauges } from './engine-gauges.js';
import { EngineStatusReader } from './live/engine-status.js';
import { LiveFeed } from './live/feed.js';
import { Metrics } from './metrics.js';
import { adminAuth, customerAuth } from './middleware/auth.js';
import { limitBody } from './middleware/limit-body.js';
import { observe } from './middleware/observe.js';
import { rateLimiter } from './middleware/rate-limit.js';
import { onError, problemResponse } from './problem.js';
import { adminRoutes } from './routes/admin.js';
import { dashboardRoutes } from './routes/dashboard.js';
import { docsRoutes } from './routes/docs.js';
import { healthRoutes } from './routes/health.js';
import { holdRoutes } from './routes/holds.js';
import { liveRoutes } from './routes/live.js';
import { metricsRoutes } from './routes/metrics.js';
import { orderRoutes } from './routes/orders.js';
import { productRoutes } from './routes/products.js';
import { queueRoutes } from './routes/queue.js';
import { webhookEndpointRoutes } from './routes/webhook-endpoints.js';
import { webhookRoutes } from './routes/webhooks.js';

export interface App {
  app: Hono;
  metrics: Metrics;
  /** the dashboard's stream source; closing it ends the open streams */
  live: LiveFeed;
}

/** The HTTP API around an engine. No module state: tests build as many apps as they like. */
export function createApp(engine: Engine): App {
  const { config, logger } = engine.ctx;
  const metrics = new Metrics();
  // a scrape and a dashboard tick that meet share one read of the engine's state
  const status = new EngineStatusReader(engine);
  registerEngineGauges(metrics, status);
  const live = new LiveFeed(metrics, status, logger);
  const jwt = tokenVerifier(config);
  const app = new Hono();

  app.use('*', observe(logger, metrics));
  app.use('/api/*', limitBody(MAX_BODY_BYTES));
  const customer = customerAuth(jwt, rateLimiter(config.RATE_LIMIT_PER_SECOND, config.RATE_LIMIT_BURST));
  // '/api/holds/*' also matches '/api/holds' itself
  for (const path of ['/api/holds/*', '/api/orders/*', '/api/products/:id/queue']) app.use(path, customer);
  app.use('/api/admin/*', adminAuth(config.ADMIN_TOKEN, jwt));

  app.route('/api/products', productRoutes(engine));
  app.route('/api/products', queueRoutes(engine));
  app.route('/api/holds', holdRoutes(engine, metrics));
  app.route('/api/orders', orderRoutes(engine));
  app.route('/api/webhooks', webhookRoutes(engine));
  app.route('/api/admin/live', liveRoutes(live));
  app.route('/api/admin', adminRoutes(engine));
  app.route('/api/admin', webhookEndpointRoutes(engine));
  app.route('/admin', dashboardRoutes());
  app.route('/health', healthRoutes(engine));
  app.route('/metrics', metricsRoutes(metrics));
  app.route('/', docsRoutes());

  const methodsOf = routeMethods(app);
  app.notFound((c) => {
    // a path that exists, asked with a method it does not take: 405 with the ones it does (RFC 9110 15.5.6)
    const allow = methodsOf(c.req.path).join(', ');
    if (allow) return problemResponse(c, new AppError('method_not_allowed', `${c.req.path} takes ${allow}`, {}, { allow }));
    return problemResponse(c, new AppError('not_found', `no route for ${c.req.method} ${c.req.path}`));
  });
  app.onError(onError);
  return { app, metrics, live };
}

/**
 * The methods the app's routes (not its middleware) take on a path, HEAD with GET as Hono answers it;
 * read once all routes are in. A route's `:param` matches one segment, its `*` anything.
 */
function routeMethods(app: Hono): (path: string) => string[] {
  let routes: { method: string; pattern: RegExp }[] | null = null;
  return (path) => {
    routes ??= app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => ({
        method: r.method,
        pattern: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/:[^/]+/g, '[^/]+').replaceAll('*', '.*')}$`),
      }));
    const methods = new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
    if (methods.has('GET')) methods.add('HEAD');
    return [...methods];
  };
}
