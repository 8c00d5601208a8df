import { createServer, type Server } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type CryptoKey, type JWK, type JWTPayload } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { Hold, Problem } from '../../src/contract.js';
import { signJwt } from '../../src/http/jwt.js';
import { answer } from '../support/answers.js';
import { test } from '../support/fixtures.js';
import { ADMIN_TOKEN, JWT_SECRET, uniq, type Harness } from '../support/harness.js';

/**
 * Customer tokens from an identity provider (SPEC "Additions (2026-12)", issue 12): a real JWKS served
 * over HTTP on 127.0.0.1, real keys, real jose on both sides. The key set's max age is 1 s here, so the
 * refresh rules run in seconds: an unknown kid refetches at once (cooldown = min(30 s, max age)), a set
 * that lost a key forgets the tokens verified before, an unreachable provider keeps the keys it had.
 */

const ISSUER = 'https://idp.test';
const AUDIENCE = 'flash-sale';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const nowS = () => Math.floor(Date.now() / 1000);

interface IdpKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA' | 'PS256';
  privateKey: CryptoKey;
  jwk: JWK;
  pem: string;
}

async function idpKey(alg: IdpKey['alg'], kid = uniq(alg.toLowerCase())): Promise<IdpKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }, pem: await exportSPKI(publicKey) };
}

/** A token as the provider issues it (overridable claims and header). */
function sign(key: IdpKey, claims: JWTPayload = {}, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT({ sub: uniq('customer'), iss: ISSUER, aud: AUDIENCE, exp: nowS() + 600, ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .sign(key.privateKey);
}

/** The provider's JWKS endpoint: serves `keys`, counts fetches, can go down. */
class JwksServer {
  keys: JWK[] = [];
  fetches = 0;
  private server: Server | null = null;
  url = '';

  async start(port = 0): Promise<this> {
    this.server = createServer((_, res) => {
      this.fetches++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.keys }));
    });
    await new Promise<void>((r) => this.server!.listen(port, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/.well-known/jwks.json`;
    return this;
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (!server) return;
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
}

async function expectProblem(res: Response, status: number, code: string): Promise<void> {
  expect(await answer(res, Problem)).toMatchObject({ status, body: { status, code } });
}

describe('tokens from an identity provider\'s JWKS', () => {
  const jwks = new JwksServer();
  let h: Harness;
  let pid: string;
  let rsa: IdpKey;
  let ec: IdpKey;
  let ed: IdpKey;
  const hold = (token: string) => h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } });

  test.beforeAll(async ({ startEngine }) => {
    [rsa, ec, ed] = await Promise.all([idpKey('RS256'), idpKey('ES256'), idpKey('EdDSA')]);
    await jwks.start();
    jwks.keys = [rsa.jwk, ec.jwk, ed.jwk];
    h = await startEngine({
      JWT_ALGORITHMS: 'RS256,ES256,EdDSA',
      JWT_JWKS_URL: jwks.url,
      JWT_ISSUER: ISSUER,
      JWT_AUDIENCE: AUDIENCE,
      JWT_JWKS_MAX_AGE_S: '1',
    });
    pid = await h.createProduct({ stock: 100_000 });
  });
  afterAll(() => jwks.stop());

  it.each(['RS256', 'ES256', 'EdDSA'] as const)('accepts a %s token: the customer is its sub', async (alg) => {
    const key = { RS256: rsa, ES256: ec, EdDSA: ed }[alg];
    const sub = uniq('customer');
    const res = await answer(hold(await sign(key, { sub })), Hold);
    expect(res.status).toBe(201);
    const mine = await h.request('GET', `/api/holds/${res.body.id}`, { token: await sign(key, { sub }) });
    expect(mine.status).toBe(200);
  });

  it('accepts a token of 6,000 characters (many group claims)', async () => {
    const groups = Array.from({ length: 150 }, (_, i) => `group-${String(i).padStart(4, '0')}-of-the-shop-staff`);
    const token = await sign(rsa, { groups });
    expect(token.length).toBeGreaterThan(6000);
    expect((await hold(token)).status).toBe(201);
  });

  it('accepts an audience list that names us, and exp / nbf within the 30 s clock skew', async () => {
    expect((await hold(await sign(rsa, { aud: ['another-api', AUDIENCE] }))).status).toBe(201);
    expect((await hold(await sign(rsa, { exp: nowS() - 10 }))).status).toBe(201);
    expect((await hold(await sign(rsa, { nbf: nowS() + 10 }))).status).toBe(201);
  });

  const refused: [string, () => Promise<string>][] = [
    ['expired beyond the skew', () => sign(rsa, { exp: nowS() - 60 })],
    ['no exp', () => sign(rsa, { exp: undefined })],
    ['no sub', () => sign(rsa, { sub: undefined })],
    ['an empty sub', () => sign(rsa, { sub: '' })],
    ['not valid before a minute from now', () => sign(rsa, { nbf: nowS() + 60 })],
    ['another issuer', () => sign(rsa, { iss: 'https://evil.test' })],
    ['no issuer', () => sign(rsa, { iss: undefined })],
    ['another audience', () => sign(rsa, { aud: 'another-api' })],
    ['no audience', () => sign(rsa, { aud: undefined })],
    ['no kid', () => sign(rsa, {}, { kid: undefined })],
    ['an unknown kid', () => sign(rsa, {}, { kid: 'no-such-key' })],
    ['the kid of another key (RS256 signature, EC key)', () => sign(rsa, {}, { kid: ec.kid })],
    ['signed by a key the provider never published, under a published kid', async () => sign({ ...(await idpKey('RS256')), kid: rsa.kid })],
    ['alg none', async () => new UnsecuredJWT({ sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowS() + 600 }).encode()],
    ['HS256 with the provider\'s public key as the secret', async () =>
      signJwt(rsa.pem, { sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowS() + 600 }, { alg: 'HS256', typ: 'JWT', kid: rsa.kid })],
    ['HS256 with JWT_SECRET (not among JWT_ALGORITHMS)', async () => signJwt(JWT_SECRET, { sub: 'mallory', iss: ISSUER, aud: AUDIENCE, exp: nowS() + 600 })],
    ['PS256 with the published RSA key (an algorithm not configured)', async () => sign({ ...(await idpKey('PS256')), kid: rsa.kid })],
    ['garbage', async () => 'not.a.token'],
    ['a signature cut short', async () => (await sign(rsa)).slice(0, -4)],
    ['longer than 8192 characters', () => sign(rsa, { pad: 'x'.repeat(9000) })],
  ];
  it.each(refused)('refuses a token with %s: 401 unauthorized', async (_, token) => {
    await expectProblem(await hold(await token()), 401, 'unauthorized');
  });

  it('an identity-provider token is a customer\'s: 403 on the admin routes', async () => {
    await expectProblem(await h.request('GET', `/api/admin/products/${pid}`, { token: await sign(ec) }), 403, 'forbidden');
  });

  it('key rotation: a new kid makes the engine fetch the set again; a key removed from it stops working', async () => {
    const before = await sign(rsa);
    expect((await hold(before)).status).toBe(201);

    const next = await idpKey('RS256');
    jwks.keys = [...jwks.keys, next.jwk];
    await sleep(1100); // past the cooldown after the last fetch
    const fetches = jwks.fetches;
    expect((await hold(await sign(next))).status).toBe(201);
    expect(jwks.fetches).toBe(fetches + 1);

    // the provider withdraws the old key; a token verified with it works until the set is fetched again
    jwks.keys = jwks.keys.filter((k) => k.kid !== rsa.kid);
    expect((await hold(before)).status).toBe(201);
    await sleep(1100); // the set is now older than its max age: the next token that needs a key fetches it
    expect((await hold(await sign(next))).status).toBe(201);
    expect(jwks.fetches).toBe(fetches + 2);
    await expectProblem(await hold(before), 401, 'unauthorized');
    await expectProblem(await hold(await sign(rsa)), 401, 'unauthorized');
    expect((await hold(await sign(ec))).status).toBe(201);
  });

  it('a key the provider withdraws stops working within the set\'s max age, also while no other token needs the set', async () => {
    const key = await idpKey('ES256');
    jwks.keys = [...jwks.keys, key.jwk];
    await sleep(1100); // past the cooldown after the last fetch
    const token = await sign(key);
    expect((await hold(token)).status).toBe(201);
    jwks.keys = jwks.keys.filter((k) => k.kid !== key.kid);
    // only the token verified before is sent: no request needs a key
    await expect.poll(async () => (await hold(token)).status, { timeout: 5_000, interval: 250 }).toBe(401);
  });

  it('provider down: tokens and keys seen before keep working, a token needing a new key answers 503 with Retry-After', async () => {
    const seen = await sign(ec);
    expect((await hold(seen)).status).toBe(201);
    await jwks.stop();
    await sleep(1100); // the set is stale: every new token now tries to fetch it
    expect((await hold(seen)).status).toBe(201);
    expect((await hold(await sign(ed))).status).toBe(201);
    const res = await hold(await sign(await idpKey('ES256')));
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    await expectProblem(res, 503, 'unavailable');
    // still a client error when the token itself is bad, and no crash either way
    await expectProblem(await hold(await sign(ed, { exp: undefined })), 401, 'unauthorized');
    expect((await h.request('GET', '/health/live')).status).toBe(200);
  });
});

describe('a provider that was never reachable', () => {
  let h: Harness;
  let key: IdpKey;
  test.beforeAll(async ({ startEngine }) => {
    key = await idpKey('ES256');
    const down = await new JwksServer().start();
    const url = down.url;
    await down.stop();
    h = await startEngine({ JWT_ALGORITHMS: 'ES256', JWT_JWKS_URL: url, JWT_JWKS_MAX_AGE_S: '1' });
  });

  it('a customer request answers 503 unavailable (no key can be fetched at all); an admin token still works', async () => {
    const res = await h.request('POST', '/api/holds', { token: await sign(key), body: { product_id: 'p1', qty: 1 } });
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    await expectProblem(res, 503, 'unavailable');
    const pid = await h.createProduct();
    expect((await h.request('GET', `/api/admin/products/${pid}`, { token: ADMIN_TOKEN })).status).toBe(200);
    await expectProblem(await h.request('GET', `/api/admin/products/${pid}`, { token: await sign(key) }), 401, 'unauthorized');
  });
});

describe('tokens verified with a configured public key (JWT_PUBLIC_KEY)', () => {
  let h: Harness;
  let key: IdpKey;
  let pid: string;
  test.beforeAll(async ({ startEngine }) => {
    key = await idpKey('RS256');
    h = await startEngine({ JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY: key.pem });
    pid = await h.createProduct({ stock: 100 });
  });

  it('accepts its tokens (no kid needed) and refuses others', async () => {
    const hold = (token: string) => h.request('POST', '/api/holds', { token, body: { product_id: pid, qty: 1 } });
    expect((await hold(await sign(key, {}, { kid: undefined }))).status).toBe(201);
    await expectProblem(await hold(await sign(await idpKey('RS256'))), 401, 'unauthorized');
    await expectProblem(await hold(h.token(uniq('dev'))), 401, 'unauthorized');
    await expectProblem(await hold(signJwt(key.pem, { sub: 'mallory', exp: nowS() + 600 })), 401, 'unauthorized');
  });
});
