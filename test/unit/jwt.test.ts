import { describe, expect, it } from 'vitest';
import { JwtVerifier, signJwt, TokenCache } from '../../src/http/jwt.js';

const SECRET = 'unit-test-secret-0123456789';
const now = Date.now();
const exp = Math.floor(now / 1000) + 60;

describe('JwtVerifier', () => {
  const jwt = new JwtVerifier(SECRET);

  it('accepts a valid HS256 token and returns its sub', () => {
    expect(jwt.verify(signJwt(SECRET, { sub: 'u1', exp }), now)).toEqual({ sub: 'u1', expMs: exp * 1000 });
  });

  it.each([
    ['another secret', signJwt('another-secret-0123456789', { sub: 'u1', exp })],
    ['expired', signJwt(SECRET, { sub: 'u1', exp: Math.floor(now / 1000) - 1 })],
    ['no exp', signJwt(SECRET, { sub: 'u1' })],
    ['no sub', signJwt(SECRET, { exp })],
    ['numeric sub', signJwt(SECRET, { sub: 42, exp })],
    // Redis and Postgres store it as UTF-8, where it becomes U+FFFD: another customer's sub could store the same
    ['sub with an unpaired surrogate', signJwt(SECRET, { sub: 'u\ud800', exp })],
    ['not yet valid', signJwt(SECRET, { sub: 'u1', exp, nbf: exp })],
    ['alg none', `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'u1', exp })).toString('base64url')}.`],
    ['alg HS512 header', signJwt(SECRET, { sub: 'u1', exp }, { alg: 'HS512' })],
    ['garbage', 'not.a.token'],
    ['two parts', 'a.b'],
  ])('refuses a token: %s', (_, token) => {
    expect(jwt.verify(token, now)).toBeNull();
  });

  it('honours exp for cached tokens', () => {
    const token = signJwt(SECRET, { sub: 'u2', exp });
    expect(jwt.verify(token, now)).not.toBeNull();
    expect(jwt.verify(token, exp * 1000 + 1)).toBeNull();
  });
});

describe('JwtVerifier with JWT_ISSUER / JWT_AUDIENCE', () => {
  const jwt = new JwtVerifier(SECRET, { issuer: 'https://shop.test', audience: 'flash-sale' });
  const claims = { sub: 'u1', exp, iss: 'https://shop.test', aud: 'flash-sale' };

  it.each([
    ['iss and aud', claims],
    ['aud as a list naming us', { ...claims, aud: ['other', 'flash-sale'] }],
  ])('accepts %s', (_, c) => {
    expect(jwt.verify(signJwt(SECRET, c), now)).toEqual({ sub: 'u1', expMs: exp * 1000 });
  });

  it.each([
    ['no iss', { ...claims, iss: undefined }],
    ['another iss', { ...claims, iss: 'https://evil.test' }],
    ['no aud', { ...claims, aud: undefined }],
    ['another aud', { ...claims, aud: 'other' }],
    ['an aud list without us', { ...claims, aud: ['other'] }],
  ])('refuses %s', (_, c) => {
    expect(jwt.verify(signJwt(SECRET, c), now)).toBeNull();
  });
});

describe('TokenCache', () => {
  const verified = { sub: 'u', expMs: 0 };
  const tokens = ['a', 'b', 'c', 'd'].map((c) => c.repeat(10));
  const held = (cache: TokenCache) => tokens.filter((t) => cache.get(t, 0) !== undefined);

  it('holds no more characters than its limit: a token past it empties the cache', () => {
    const cache = new TokenCache({ tokens: 100, chars: 30 });
    for (const t of tokens.slice(0, 3)) cache.set(t, verified, 1);
    cache.set(tokens[0]!, verified, 1);
    expect(held(cache)).toEqual(tokens.slice(0, 3));
    cache.set(tokens[3]!, verified, 1);
    expect(held(cache)).toEqual([tokens[3]]);
  });

  it('counts an expired token out when it drops it', () => {
    const cache = new TokenCache({ tokens: 100, chars: 30 });
    cache.set(tokens[0]!, verified, 1);
    cache.set(tokens[1]!, verified, 5);
    cache.set(tokens[2]!, verified, 5);
    expect(cache.get(tokens[0]!, 1)).toBeUndefined();
    cache.set(tokens[3]!, verified, 5);
    expect(held(cache)).toEqual(tokens.slice(1));
  });

  it('holds no more tokens than its limit', () => {
    const cache = new TokenCache({ tokens: 2, chars: 1000 });
    for (const t of tokens.slice(0, 3)) cache.set(t, verified, 1);
    expect(held(cache)).toEqual([tokens[2]]);
  });
});
