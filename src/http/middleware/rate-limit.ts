import { AppError } from '../../errors.js';

/** Beyond this many tracked users the table starts over (a bound on memory, not a policy). */
const MAX_TRACKED = 200_000;

interface Bucket {
  tokens: number;
  at: number;
}

/** Takes one request from a customer's allowance, or throws 429 rate_limited. */
export type RateLimiter = (userId: string) => void;

/**
 * A token bucket per customer (after authentication): `perSecond` sustained, `burst` at once. Per API
 * process: with N processes a user gets up to N times the rate. 0 turns it off (no limiter at all).
 */
export function rateLimiter(perSecond: number, burst: number): RateLimiter | undefined {
  if (perSecond <= 0) return undefined;
  const buckets = new Map<string, Bucket>();
  return function take(user) {
    const now = performance.now();
    let b = buckets.get(user);
    if (!b) {
      if (buckets.size >= MAX_TRACKED) buckets.clear();
      b = { tokens: burst, at: now };
      buckets.set(user, b);
    } else {
      b.tokens = Math.min(burst, b.tokens + ((now - b.at) / 1000) * perSecond);
      b.at = now;
    }
    if (b.tokens < 1) {
      const retryAfter = Math.ceil((1 - b.tokens) / perSecond);
      throw new AppError('rate_limited', `at most ${perSecond} requests per second per customer`, { retry_after_s: retryAfter }, { 'retry-after': String(retryAfter) });
    }
    b.tokens -= 1;
  };
}
