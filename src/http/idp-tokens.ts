import { createPublicKey, type KeyObject } from 'node:crypto';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey, type JWTVerifyOptions } from 'jose';
import type { Config } from '../config.js';
import { AppError } from '../errors.js';
import { JwtVerifier, MAX_TOKEN_LENGTH, TokenCache, VALID_SUB, type ExpectedClaims, type TokenVerifier, type VerifiedToken } from './jwt.js';

/**
 * Customer tokens signed by an identity provider, verified with jose.
 *
 * - Keys: one PEM public key (JWT_PUBLIC_KEY), or the provider's JWKS (JWT_JWKS_URL). The set is
 *   fetched on first use and again once it is JWT_JWKS_MAX_AGE_S old (when a token needs it); a token
 *   naming an unknown `kid` fetches it at once, but at most once per cooldown, so made-up kids cannot
 *   make us hammer the provider.
 * - A token must name its key (`kid`) and one of JWT_ALGORITHMS in its header; `exp` and `sub` are
 *   required, `iss` / `aud` checked when configured, `exp` / `nbf` with CLOCK_SKEW_S of tolerance.
 * - Verified tokens are cached until they expire, so a signature is checked once per token, not per
 *   request. When a fetched set no longer holds a key the cache is emptied: tokens of a withdrawn key
 *   are refused from the next fetch on. A request with a cached token starts that fetch once the set
 *   is JWT_JWKS_MAX_AGE_S old (without waiting for it), so a withdrawn key stops working within about
 *   that time also while every request brings a token verified before.
 * - The provider unreachable (or answering something that is not a key set): the keys fetched before
 *   keep verifying; a token that needs a key we never had answers 503 with Retry-After. Every other
 *   failure is an invalid token (401); nothing here throws anything else.
 */

/** Tolerance on `exp` and `nbf`: the provider's clock is not ours. */
export const CLOCK_SKEW_S = 30;
/** A JWKS request slower than this fails, and the request waiting for it answers 503. */
const JWKS_TIMEOUT_MS = 3_000;
/** After a fetch, an unknown `kid` waits this long (or the set's max age, if shorter) before it may cause another. */
const JWKS_COOLDOWN_MS = 30_000;
const RETRY_AFTER_S = '5';

/** Errors that mean "the key set could not be had", as opposed to "this token has no key in it". */
const isFetchFailure = (err: unknown): boolean =>
  !(err instanceof errors.JOSEError) || err instanceof errors.JWKSTimeout || err instanceof errors.JWKSInvalid || err.code === 'ERR_JOSE_GENERIC';

const unavailable = () =>
  new AppError('unavailable', 'the identity provider\'s keys cannot be fetched; retry shortly', {}, { 'retry-after': RETRY_AFTER_S });

const kids = (set: JSONWebKeySet | undefined) => new Set((set?.keys ?? []).map((k) => k.kid));

/**
 * The provider's key set (`getKey`), and `refreshIfStale`, for requests that need no key: fetches the set
 * again in the background once it is `maxAgeMs` old. `withdrawn` is called when a fetched set lacks a
 * key the previous one had.
 */
function remoteKeySet(url: string, maxAgeMs: number, withdrawn: () => void): { getKey: JWTVerifyGetKey; refreshIfStale: (nowMs: number) => void } {
  let fetched = false;
  let known = new Set<string | undefined>();
  const remote = createRemoteJWKSet(new URL(url), {
    timeoutDuration: JWKS_TIMEOUT_MS,
    cooldownDuration: Math.min(JWKS_COOLDOWN_MS, maxAgeMs),
    cacheMaxAge: maxAgeMs,
    [customFetch]: async (href, options) => {
      const res = await fetch(href, options);
      fetched ||= res.status === 200;
      return res;
    },
  });
  let refreshAt = Date.now() + maxAgeMs;
  const compareWithLastSet = () => {
    if (!fetched) return;
    fetched = false;
    refreshAt = Date.now() + maxAgeMs;
    const now = kids(remote.jwks());
    if ([...known].some((kid) => !now.has(kid))) withdrawn();
    known = now;
  };
  const refreshIfStale = (nowMs: number) => {
    if (nowMs < refreshAt) return;
    refreshAt = nowMs + maxAgeMs;
    // (a provider down keeps the set fetched before, as for a token that needs a key)
    remote.reload().then(compareWithLastSet, () => {});
  };
  const getKey: JWTVerifyGetKey = async (header, token) => {
    // without a kid jose would take the only key that fits the algorithm; an IdP token always names its key
    if (typeof header.kid !== 'string') throw new errors.JWKSNoMatchingKey('the token names no key (kid)');
    try {
      return await remote(header, token);
    } catch (err) {
      if (!isFetchFailure(err)) throw err;
      // the provider is down: what it published before still holds
      const last = remote.jwks();
      if (!last) throw unavailable();
      return createLocalJWKSet(last)(header, token).catch((e: unknown) => {
        throw e instanceof errors.JWKSNoMatchingKey ? unavailable() : e;
      });
    } finally {
      compareWithLastSet();
    }
  };
  return { getKey, refreshIfStale };
}

export class IdpTokenVerifier implements TokenVerifier {
  private readonly cache = new TokenCache();
  private readonly options: JWTVerifyOptions;
  private readonly key: KeyObject | JWTVerifyGetKey;
  /** keeps a remote key set fresh while only cached tokens arrive */
  private readonly refreshIfStale: (nowMs: number) => void = () => {};

  /** `keys`: a PEM public key, or a JWKS URL with the set's max age. */
  constructor(keys: { pem: string } | { jwksUrl: string; maxAgeMs: number }, algorithms: string[], expected: ExpectedClaims) {
    if ('pem' in keys) this.key = createPublicKey(keys.pem);
    else {
      const remote = remoteKeySet(keys.jwksUrl, keys.maxAgeMs, () => this.cache.clear());
      this.key = remote.getKey;
      this.refreshIfStale = remote.refreshIfStale;
    }
    this.options = {
      algorithms,
      clockTolerance: CLOCK_SKEW_S,
      requiredClaims: ['exp', 'sub'],
      ...(expected.issuer !== undefined ? { issuer: expected.issuer } : {}),
      ...(expected.audience !== undefined ? { audience: expected.audience } : {}),
    };
  }

  verify(token: string, nowMs = Date.now()): VerifiedToken | Promise<VerifiedToken | null> {
    const cached = this.cache.get(token, nowMs);
    if (!cached) return this.verifyUncached(token, nowMs);
    this.refreshIfStale(nowMs);
    return cached;
  }

  private async verifyUncached(token: string, nowMs: number): Promise<VerifiedToken | null> {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    let sub: unknown;
    let exp: unknown;
    try {
      ({ payload: { sub, exp } } = await jwtVerify(token, this.key, { ...this.options, currentDate: new Date(nowMs) }));
    } catch (err) {
      if (err instanceof AppError) throw err;
      return null;
    }
    if (typeof sub !== 'string' || !VALID_SUB.test(sub) || typeof exp !== 'number') return null;
    const verified = { sub, expMs: exp * 1000 };
    this.cache.set(token, verified, verified.expMs + CLOCK_SKEW_S * 1000);
    return verified;
  }
}

/** The verifier the configuration asks for: the provider's JWKS, its public key, or HS256 with JWT_SECRET. */
export function tokenVerifier(config: Config): TokenVerifier {
  const expected: ExpectedClaims = { issuer: config.JWT_ISSUER, audience: config.JWT_AUDIENCE };
  if (config.JWT_JWKS_URL !== undefined) {
    return new IdpTokenVerifier({ jwksUrl: config.JWT_JWKS_URL, maxAgeMs: config.JWT_JWKS_MAX_AGE_S * 1000 }, config.JWT_ALGORITHMS, expected);
  }
  if (config.JWT_PUBLIC_KEY !== undefined) return new IdpTokenVerifier({ pem: config.JWT_PUBLIC_KEY }, config.JWT_ALGORITHMS, expected);
  return new JwtVerifier(config.JWT_SECRET, expected);
}
