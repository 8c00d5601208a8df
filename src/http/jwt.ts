import { createHmac, timingSafeEqual } from 'node:crypto';

export interface VerifiedToken {
  sub: string;
  /** expiry in ms since the epoch */
  expMs: number;
}

/** How many verified tokens are remembered; a storefront sends the same token many times. */
const CACHE_SIZE = 50_000;

/** 1-255 characters, none of them control characters (Postgres text cannot hold NUL). */
const VALID_SUB = /^[^\u0000-\u001f\u007f]{1,255}$/;

const b64json = (part: string): unknown => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/**
 * HS256 JWT verification with the algorithm pinned (no `alg: none`, no algorithm confusion), `exp`
 * required and checked, `nbf` honoured, `sub` required. Verified tokens are cached until they expire,
 * so a token's HMAC is computed once rather than per request.
 */
export class JwtVerifier {
  private readonly cache = new Map<string, VerifiedToken>();

  constructor(private readonly secret: string) {}

  /** The token's claims, or null when it is not a valid, current token. */
  verify(token: string, nowMs = Date.now()): VerifiedToken | null {
    const cached = this.cache.get(token);
    if (cached) {
      if (cached.expMs > nowMs) return cached;
      this.cache.delete(token);
      return null;
    }
    const verified = this.verifyUncached(token, nowMs);
    if (verified) {
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      this.cache.set(token, verified);
    }
    return verified;
  }

  private verifyUncached(token: string, nowMs: number): VerifiedToken | null {
    if (token.length > 4096) return null;
    const parts = token.split('.');
    if (parts.length !== 3) return null;
    const [h, p, s] = parts as [string, string, string];
    try {
      const header = b64json(h) as { alg?: unknown; typ?: unknown };
      if (header.alg !== 'HS256' || (header.typ !== undefined && header.typ !== 'JWT')) return null;
      const expected = createHmac('sha256', this.secret).update(`${h}.${p}`).digest();
      const given = Buffer.from(s, 'base64url');
      if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
      const claims = b64json(p) as { sub?: unknown; exp?: unknown; nbf?: unknown };
      if (typeof claims.sub !== 'string' || !VALID_SUB.test(claims.sub)) return null;
      if (typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return null;
      if (claims.nbf !== undefined && (typeof claims.nbf !== 'number' || claims.nbf * 1000 > nowMs)) return null;
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
