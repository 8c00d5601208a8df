import type { Context } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { AppError, isUnavailable } from '../errors.js';
import { requestLogger } from './middleware/observe.js';

/** Retry-After for 503s: Redis or Postgres usually come back within seconds. */
const RETRY_AFTER_S = '1';

export function problemResponse(c: Context, err: AppError): Response {
  // 5xx carry the request id to quote; 4xx answers stay small
  const body = err.problemJson(err.status >= 500 ? c.get('requestId') : undefined);
  return c.body(body, err.status as 400, { 'content-type': 'application/problem+json', ...err.headers });
}

/** The one error handler: every failure leaves as problem+json, unknown ones as 500 with a request id. */
export function onError(err: Error, c: Context): Response {
  if (err instanceof AppError) return problemResponse(c, err);
  if (isUnavailable(err)) {
    requestLogger(c).warn({ err: err.message }, 'dependency unavailable');
    return problemResponse(c, new AppError('unavailable', 'a backing store is unavailable; retry shortly', {}, { 'retry-after': RETRY_AFTER_S }));
  }
  if (err instanceof HTTPException && err.status < 500) {
    return problemResponse(c, new AppError('invalid_request', err.message || 'bad request', { errors: [] }));
  }
  requestLogger(c).error({ err }, 'unhandled error');
  return problemResponse(c, new AppError('internal_error', 'an unexpected error occurred; quote the request id'));
}
