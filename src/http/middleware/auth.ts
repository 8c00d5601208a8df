import { header } from '../header.js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler, Next } from 'hono';
import { AppError } from '../../errors.js';
import type { TokenVerifier, VerifiedToken } from '../jwt.js';
import type { RateLimiter } from './rate-limit.js';

declare module 'hono' {
  interface ContextVariableMap {
    userId: string;
  }
}

/** The token of `Authorization: Bearer <token>`; the scheme is case-insensitive (RFC 9110 11.1). */
function bearer(header: string | undefined): string | null {
  if (!header || !(header.startsWith('Bearer ') || header.slice(0, 7).toLowerCase() === 'bearer ')) return null;
  const token = header.slice(7).trim();
  return token.length > 0 ? token : null;
}

/**
 * 401 with the challenge every 401 must carry (RFC 9110 11.6.1): Bearer, and `invalid_token` when a
 * token was sent but is not a valid one (RFC 6750 3.1).
 */
function unauthorized(detail: string, token: string | null): AppError {
  return new AppError('unauthorized', detail, {}, { 'www-authenticate': token ? 'Bearer error="invalid_token"' : 'Bearer' });
}

/**
 * Customer routes: a valid customer JWT; its `sub` becomes the `userId` context variable, then the
 * customer's rate limit, if there is one. (Not async: on the hot path, a token seen before, every
 * extra await is a cost; only a token whose key must be looked up waits.)
 */
export function customerAuth(jwt: TokenVerifier, limit?: RateLimiter): MiddlewareHandler {
  const admit = (c: Context, next: Next, token: string | null, verified: VerifiedToken | null) => {
    if (!verified) throw unauthorized('a valid Bearer token is required', token);
    limit?.(verified.sub);
    c.set('userId', verified.sub);
    return next();
  };
  return function customerAuth(c, next) {
    const token = bearer(header(c, 'authorization'));
    const verified = token ? jwt.verify(token) : null;
    return verified instanceof Promise ? verified.then((v) => admit(c, next, token, v)) : admit(c, next, token, verified);
  };
}

const digest = (s: string) => createHash('sha256').update(s).digest();

/** Operator routes: the ADMIN_TOKEN, compared in constant time. A customer's token is forbidden. */
export function adminAuth(adminToken: string, jwt: TokenVerifier): MiddlewareHandler {
  const expected = digest(adminToken);
  return async function adminAuth(c, next) {
    const token = bearer(header(c, 'authorization'));
    if (!token) throw unauthorized('the admin Bearer token is required', token);
    if (!timingSafeEqual(digest(token), expected)) {
      // whether it is a customer's token only picks the answer: a key that cannot be fetched makes it a 401
      const customer = await Promise.resolve()
        .then(() => jwt.verify(token))
        .catch(() => null);
      if (customer) throw new AppError('forbidden', 'customer tokens cannot use admin routes');
      throw unauthorized('the admin Bearer token is required', token);
    }
    await next();
  };
}
