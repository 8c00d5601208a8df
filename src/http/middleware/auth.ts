import { header } from '../header.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { AppError } from '../../errors.js';
import type { JwtVerifier } from '../jwt.js';
import type { RateLimiter } from './rate-limit.js';

declare module 'hono' {
  interface ContextVariableMap {
    userId: string;
  }
}

function bearer(header: string | undefined): string | null {
  if (!header || !header.startsWith('Bearer ')) return null;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : null;
}

/**
 * Customer routes: a valid HS256 JWT; its `sub` becomes the `userId` context variable, then the
 * customer's rate limit, if there is one. (Not async: on the hot path every extra await is a cost.)
 */
export function customerAuth(jwt: JwtVerifier, limit?: RateLimiter): MiddlewareHandler {
  return function customerAuth(c, next) {
    const token = bearer(header(c, 'authorization'));
    const verified = token ? jwt.verify(token) : null;
    if (!verified) throw new AppError('unauthorized', 'a valid Bearer token is required');
    limit?.(verified.sub);
    c.set('userId', verified.sub);
    return next();
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Operator routes: the ADMIN_TOKEN, compared in constant time. A customer's token is forbidden. */
export function adminAuth(adminToken: string, jwt: JwtVerifier): MiddlewareHandler {
  const expected = digest(adminToken);
  return async function adminAuth(c, next) {
    const token = bearer(header(c, 'authorization'));
    if (!token) throw new AppError('unauthorized', 'the admin Bearer token is required');
    if (!timingSafeEqual(digest(token), expected)) {
      if (jwt.verify(token)) throw new AppError('forbidden', 'customer tokens cannot use admin routes');
      throw new AppError('unauthorized', 'the admin Bearer token is required');
    }
    await next();
  };
}
