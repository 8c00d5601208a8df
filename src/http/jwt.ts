import { createHmac, timingSafeEqual } from 'node:crypto';

export interface VerifiedToken {
  sub: string;
  /** expiry in ms since the epoch */
  expMs: number;
}

/** What the customer routes need: a token's claims, or null when it is not a valid, current token. */
export interface TokenVerifier {
  /**
   * Synchronous for a token verified before (the hot path pays no signature and no await); a promise
   * only when a key must be looked up. May throw an `unavailable` AppError when no key can be fetched.
   */
  verify(token: string, nowMs?: number): VerifiedToken | null | Promise<VerifiedToken | null>;
}

/** The `iss` / `aud` a token must carry, when configured. */
export interface ExpectedClaims {
  issuer?: string | undefined;
  audience?: string | undefined;
}

/**
 * How many verified tokens are remembered (a storefront sends the same token many times), and how many
 * of their characters: at 8 KiB a token, 50,000 of them would hold 400 MB.
 */
const CACHE_LIMITS = { tokens: 50_000, chars: 64 * 1024 * 1024 };

/**
 * 1-255 characters, none of them control characters (Postgres text cannot hold NUL) nor an unpaired
 * surrogate: Redis and Postgres keep the id as UTF-8, where each of those becomes U+FFFD, so two
 * customers' ids would be stored as one (and one's hold read as another's).
 */
export const VALID_SUB = /^[^\u0000-\u001f\u007f\p{Cs}]{1,255}$/u;

/**
 * Longer tokens are refused unread. 8 KiB, about the longest header line common proxies pass (nginx's
 * default large header buffer holds `Authorization: Bearer ` and a little over 8,150 characters): an
 * identity provider's token with many group claims runs past 4 KiB.
 */
export const MAX_TOKEN_LENGTH = 8192;

/** Verified tokens, each until a deadline (its expiry); emptied when full. */
export class TokenCache {
  private readonly entries = new Map<string, { verified: VerifiedToken; untilMs: number }>();
  private chars = 0;

  constructor(private readonly limits = CACHE_LIMITS) {}

  get(token: string, nowMs: number): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (!entry) return undefined;
    if (entry.untilMs > nowMs) return entry.verified;
    this.entries.delete(token);
    this.chars -= token.length;
    return undefined;
  }

  set(token: string, verified: VerifiedToken, untilMs: number): void {
    if (!this.entries.has(token)) {
      if (this.entries.size >= this.limits.tokens || this.chars + token.length > this.limits.chars) this.clear();
      this.chars += token.length;
    }
    this.entries.set(token, { verified, untilMs });
  }

  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }
}

/** Whether a token's `aud` (a string or a list) names the expected audience. */
const audienceMatches = (aud: unknown, expected: string): boolean =>
  aud === expected || (Array.isArray(aud) && aud.includes(expected));

const b64json = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/**
 * HS256 JWT verification with the algorithm pinned (no `alg: none`, no algorithm confusion), `exp`
 * required and checked (no clock skew: the signer shares our secret, and usually our clock), `nbf`
 * honoured, `sub` required, `iss` / `aud` when configured. Verified tokens are cached until they
 * expire, so a token's HMAC is computed once rather than per request. node:crypto rather than jose
 * here: an HMAC in jose goes through WebCrypto and a promise, several times slower per token
 * (`npm run bench -- --only auth` measures both).
 */
export class JwtVerifier implements TokenVerifier {
  private readonly cache = new TokenCache();

  constructor(
    private readonly secret: string,
    private readonly expected: ExpectedClaims = {},
  ) {}

  verify(token: string, nowMs = Date.now()): VerifiedToken | null {
    const cached = this.cache.get(token, nowMs);
    if (cached) return cached;
    const verified = this.verifyUncached(token, nowMs);
    if (verified) this.cache.set(token, verified, verified.expMs);
    return verified;
  }

  private verifyUncached(token: string, nowMs: number): VerifiedToken | null {
    if (token.length > MAX_TOKEN_LENGTH) return null;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [h, p, s] = parts as [string, string, string];
    try {
      const header = b64json(h) as { alg?: unknown; typ?: unknown };
      if (header.alg !== 'HS256' || (header.typ !== undefined && header.typ !== 'JWT')) return null;
      const expected = createHmac('sha256', this.secret).update(`${h}.${p}`).digest();
      const given = Buffer.from(s, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      const claims = b64json(p) as { sub?: unknown; exp?: unknown; nbf?: unknown; iss?: unknown; aud?: unknown };
      if (typeof claims.sub !== 'string' || !VALID_SUB.test(claims.sub)) return null;
      if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return null;
      if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf * 1000 > nowMs)) return null;
      if (this.expected.issuer !== undefined && claims.iss !== this.expected.issuer) return null;
      if (this.expected.audience !== undefined && !audienceMatches(claims.aud, this.expected.audience)) return null;
      return { sub: claims.sub, expMs: claims.exp * 1000 };
    } catch {
      return null;
    }
  }
}

/** Signs an HS256 token (tests, load scenarios and local tooling). */
export function signJwt(secret: string, claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const body = `${enc(header)}.${enc(claims)}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}
