import { header } from '../header.js';
import type { MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { AppError } from '../../errors.js';

/**
 * 413 for bodies over `maxBytes`. A declared Content-Length is checked from the header alone; only a
 * chunked body is counted as it streams (Hono's bodyLimit), since wrapping the stream costs the
 * adapter's fast path on every request.
 */
export function limitBody(maxBytes: number): MiddlewareHandler {
  // the unread rest of the body would poison a kept-alive connection: close it after the answer
  const tooLarge = () => new AppError('payload_too_large', `the body must be at most ${maxBytes} bytes`, {}, { connection: 'close' });
  const streaming = bodyLimit({
    maxSize: maxBytes,
    onError: () => {
      throw tooLarge();
    },
  });
  return function limitBody(c, next) {
    const length = header(c, 'content-length');
    if (length !== undefined && header(c, 'transfer-encoding') === undefined) {
      if (Number(length) > maxBytes) throw tooLarge();
      return next();
    }
    if (c.req.method === 'GET' || c.req.method === 'HEAD' || c.req.method === 'DELETE') return next();
    return streaming(c, next);
  };
}
