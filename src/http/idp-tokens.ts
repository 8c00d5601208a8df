import { createPublicKey, type KeyObject } from 'node:crypto';
import { createRemoteJWKSet, customFetch, errors, jwtVerify, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { JwtVerifier, MAX_TOKEN_LENGTH, TokenCache, VALID_SUB, type ExpectedClaims, type TokenVerifier, type VerifiedToken } from './jwt.js';

/**
 * Customer tokens signed by an identity provider, verified with jose.
 *
 * - Keys: one PEM public key (JWT_PUBLIC_KEY), or the provider's JWKS (JWT_JWKS_URL). The set is
 *   fetched on first use and kept for JWT_JWKS_MAX_AGE_S; a token naming an unknown `kid` fetches it
 *   again, at most once per cooldown, so made-up kids cannot make us hammer the provider.
 * - A token must name its key (`kid`) and one of JWT_ALGORITHMS in its header; `exp` and `sub` are
 *   required, `iss` / `aud` checked when configured, `exp` / `nbf` with CLOCK_SKEW_S of tolerance.
 * - Verified tokens are cached, so a signature is checked once per token, not per request; an entry
 *   lives until the token expires or the key set it was checked against is due for a refresh, so a key
 *   removed from the set stops working within JWT_JWKS_MAX_AGE_S of the fetch that still held it.
 * - No key to be had (the JWKS unreachable, timing out, or not a key set, and nothing usable cached):
 *   503 with Retry-After; every other failure is an invalid token (401). Nothing here throws anything else.
 */

/** Tolerance on `exp` and `nbf`: the provider's clock is not ours. */
export const CLOCK_SKEW_S = 30;
/** A JWKS request slower than this fails, and the request waiting for it answers 503. */
const JWKS_TIMEOUT_MS = 3_000;
/** After a fetch, an unknown `kid` waits this long before it may cause another one. */
const JWKS_COOLDOWN_MS = 30_000;
const RETRY_AFTER_S = '5';

interface KeySource {
  key: KeyObject | JWTVerifyGetKey;
  /** until when a token verified now against this source may be trusted without checking again */
  trustUntilMs(): number;
}

function staticKey(pem: string): KeySource {
  const key = createPublicKey(pem);
  return { key, trustUntilMs: () => Infinity };
}

/** Errors that mean "the key set could not be had", as opposed to "this token has no key in it". */
const isFetchFailure = (err: unknown): boolean =>
  !(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC';

function remoteKeySet(url: string, maxAgeMs: number): KeySource {
  let fetchedAtMs = 0;
  const remote = createRemoteJWKSet(new URL(url), {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cooldownDuration: JWKS_COOLDOWN_MS,
    cacheMaxAge: maxAgeMs,
    [customFetch]: async (href, options) => {
      const res = await fetch(href, options);
      if (res.status === 200) fetchedAtMs = Date.now();
      return res;
    },
  });
  const key: JWTVerifyGetKey = async (header, token) => {
    // without a kid jose would take the only key that fits the algorithm; an IdP token always names its key
    if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey('the token names no key (kid)');
    try {
      return await remote(header, token);
    } catch (err) {
      if (isFetchFailure(err)) {
        throw new AppError('unavailable', 'the identity provider\'s keys cannot be fetched; retry shortly', {}, { 'retry-after': RETRY_AFTER_S });
      }
      throw err;
    }
  };
  return { key, trustUntilMs: () => fetchedAtMs + maxAgeMs };
}

export class IdpTokenVerifier implements TokenVerifier {
  private readonly cache = new TokenCache();
  private readonly options: JWTVerifyOptions;

  constructor(
    private readonly keys: KeySource,
    algorithms: string[],
    expected: ExpectedClaims,
  ) {
    this.options = {
      algorithms,
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['exp', 'sub'],
      ...(expected.issuer !== undefined ? { issuer: expected.issuer } : {}),
      ...(expected.audience !== undefined ? { audience: expected.audience } : {}),
    };
  }

  verify(token: string, nowMs = Date.now()): VerifiedToken | Promise<VerifiedToken | null> {
    return this.cache.get(token, nowMs) ?? this.verifyUncached(token, nowMs);
  }

  private async verifyUncached(token: string, nowMs: number): Promise<VerifiedToken | null> {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    let sub: unknown;
    let exp: unknown;
    try {
      ({ payload: { sub, exp } } = await jwtVerify(token, this.keys.key, { ...this.options, currentDate: new Date(nowMs) }));
    } catch (err) {
      if (err instanceof AppError) throw err;
      return null;
    }
    if (typeof sub !== 'string' || !VALID_SUB.test(sub) || typeof exp !== 'number') return null;
    const verified = { sub, expMs: exp * 1000 };
    this.cache.set(token, verified, Math.min(verified.expMs + CLOCK_SKEW_S * 1000, this.keys.trustUntilMs()));
    return verified;
  }
}

/** The verifier the configuration asks for: the provider's JWKS, its public key, or HS256 with JWT_SECRET. */
export function tokenVerifier(config: Config): TokenVerifier {
  const expected: ExpectedClaims = { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  if (config.JWT_JWKS_URL !== undefined) {
    return new IdpTokenVerifier(remoteKeySet(config.JWT_JWKS_URL, config.JWT_JWKS_MAX_AGE_S * 1000), config.JWT_ALGORITHMS, expected);
  }
  if (config.JWT_PUBLIC_KEY !== undefined) return new IdpTokenVerifier(staticKey(config.JWT_PUBLIC_KEY), config.JWT_ALGORITHMS, expected);
  return new JwtVerifier(config.JWT_SECRET, expected);
}
