import { header } from '../header.js';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';

declare module 'hono' {
  interface ContextVariableMap {
    requestId: string;
    logger: Logger;
  }
}

let counter = 0;
const processTag = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
const VALID_INCOMING_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * A logger bound to the request id, made only by the routes that log or call into the engine where it
 * logs what the request changes (the engine's methods take it as their last argument); never on the
 * hold path, which logs nothing per hold.
 */
export function requestLogger(c: Context): Logger {
  return c.get('logger').child({ reqId: c.get('requestId') });
}

/**
 * Request id (incoming X-Request-Id or a cheap local one) for log lines and 5xx problems, latency
 * histogram by route and status, and an access line at debug level, which costs nothing when debug is off.
 */
export function observe(logger: Logger, metrics: Metrics): MiddlewareHandler {
  return async function observe(c, next) {
    const start = performance.now();
    const incoming = header(c, 'x-request-id');
    const requestId = incoming && VALID_INCOMING_ID.test(incoming) ? incoming : `${processTag}-${(++counter).toString(36)}`;
    c.set('requestId', requestId);
    c.set('logger', logger);
    await next();
    const seconds = (performance.now() - start) / 1000;
    const handler = matchedRoutes(c).at(-1);
    const route = handler && handler.method !== 'ALL' ? handler.path : 'unmatched';
    metrics.observeRequest(c.req.method, route, c.res.status, seconds);
    if (logger.isLevelEnabled('debug')) {
      logger.debug({ reqId: requestId, method: c.req.method, path: c.req.path, status: c.res.status, ms: seconds * 1000 }, 'request');
    }
  };
}
