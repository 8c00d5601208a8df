import { generateKeyPairSync } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import { IdpTokenVerifier } from '../../src/http/idp-tokens.js';
import { JwtVerifier, signJwt } from '../../src/http/jwt.js';
import { compareAlternating, comparisonResult, holdRequest } from '../lib/compare.js';
import { createProduct } from '../lib/engine-api.js';
import { cpuPerRequest } from '../lib/cpu.js';
import { runLoad } from '../lib/processes.js';
import { fmtInt, fmtRatio } from '../lib/format.js';
import type { Row, Section } from '../lib/types.js';

/** Holds outlive the section, as in the shared engine (hold expiry is not what is measured). */
const ENGINE_ENV = { HOLD_TTL_MS: String(3600_000) };
const SAMPLE = 2_000;
/** Requests per engine in the CPU measurement. */
const CPU_REQUESTS = 30_000;

/** µs per uncached verification of `tokens` (each one new to the verifier), after a warm-up on the first tenth. */
async function microsPerToken(tokens: string[], verify: (token: string) => unknown): Promise<number> {
  for (const t of tokens.slice(0, SAMPLE / 10)) await verify(t);
  const measured = tokens.slice(SAMPLE / 10);
  const start = performance.now();
  for (const t of measured) if (!(await verify(t))) throw new Error('a benchmark token did not verify');
  return ((performance.now() - start) * 1000) / measured.length;
}

/**
 * What a token's first verification costs in this process: HS256 with node:crypto (the engine's
 * JwtVerifier) and with jose, RS256 with jose (the engine's IdpTokenVerifier). Every later request with
 * the same token is a cache lookup, which the holds comparison measures.
 */
async function verificationCost(secret: string, privateKey: ReturnType<typeof generateKeyPairSync>['privateKey'], publicPem: string) {
  const exp = Math.floor(Date.now() / 1000) + 3600;
  const subs = Array.from({ length: SAMPLE }, (_, i) => `bench-${i}`);
  const hs = subs.map((sub) => signJwt(secret, { sub, exp }));
  const rs = await Promise.all(subs.map((sub) => new SignJWT({ sub, exp }).setProtectedHeader({ alg: 'RS256' }).sign(privateKey)));
  const node = new JwtVerifier(secret);
  const joseSecret = new TextEncoder().encode(secret);
  const idp = new IdpTokenVerifier({ pem: publicPem }, ['RS256'], {});
  return {
    hs256NodeCrypto: await microsPerToken(hs, (t) => node.verify(t)),
    hs256Jose: await microsPerToken(hs, (t) => jwtVerify(t, joseSecret, { algorithms: ['HS256'] })),
    rs256Jose: await microsPerToken(rs, (t) => idp.verify(t)),
  };
}

/**
 * Holds with identity-provider tokens against holds with HS256 tokens: two engines started alike, one
 * with JWT_PUBLIC_KEY and JWT_ALGORITHMS=RS256, the same load (one hot product, a token per request
 * from the user pool, a UUID Idempotency-Key), alternating. The verified-token cache should make the
 * algorithm invisible on the hot path.
 */
export const authSection: Section = {
  name: 'auth',
  title: 'POST /api/holds with RS256 (identity provider) vs HS256 tokens',
  async run(ctx) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const engines: EngineProcess[] = [];
    try {
      ctx.log('starting an HS256 and an RS256 engine');
      const hs = await startEngineProcess({ mode: 'all', env: ENGINE_ENV });
      engines.push(hs);
      const rs = await startEngineProcess({ mode: 'all', env: { ...ENGINE_ENV, JWT_ALGORITHMS: 'RS256', JWT_PUBLIC_KEY: publicPem } });
      engines.push(rs);
      const users = ctx.opts.users;
      const hsRequest = holdRequest(await createProduct(hs, 'auth-hs256', 10_000_000), hs.jwtSecret, users, true);
      const rsRequest = { ...holdRequest(await createProduct(rs, 'auth-rs256', 10_000_000), 'unused', users, true), auth: { users, rs256: { privateKeyPem } } };
      // the floor of the comparison: the HS256 engine with tokens as long as RS256 ones (a filler claim), so
      // what the longer token costs on the wire, in the load generator and in parsing shows apart from the algorithm
      const rsLength = (await new SignJWT({ sub: 'user-000000', exp: 1 }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(privateKey)).length;
      const hsLongRequest = { ...hsRequest, auth: { users, jwtSecret: hs.jwtSecret, padTo: rsLength } };
      const targets = [
        { name: 'HS256', url: `${hs.url}/api/holds`, request: hsRequest },
        { name: 'RS256', url: `${rs.url}/api/holds`, request: rsRequest },
        { name: 'HS256, RS256-long tokens', url: `${hs.url}/api/holds`, request: hsLongRequest },
      ];
      // a storefront's customers keep their token for its lifetime: measure that steady state, not the first sight of each token
      ctx.log(`  each engine sees every token once (${fmtInt(users)} requests)`);
      for (const t of targets) await runLoad({ ...t.request, url: t.url, connections: ctx.opts.connections, amount: users });
      const c = await compareAlternating(ctx, targets);
      // req/s on a shared machine swings with its load; the CPU an engine spends per request does much less
      ctx.log(`  engine CPU over ${fmtInt(CPU_REQUESTS)} requests each`);
      const cpuPerRequestUs = await cpuPerRequest(
        [{ ...targets[0]!, pid: hs.pid }, { ...targets[1]!, pid: rs.pid }, { ...targets[2]!, pid: hs.pid }],
        ctx.opts.connections,
        CPU_REQUESTS,
      );
      ctx.log('  token verification cost');
      const cost = await verificationCost(hs.jwtSecret, privateKey, publicPem);
      const result = comparisonResult(c, { subject: 'RS256', baseline: 'HS256', expectedStatus: 201, minRatio: 0.95, chartTitle: 'holds, RS256 vs HS256 tokens' }, [
        `auth: two engines started alike, one with JWT_ALGORITHMS=RS256 and JWT_PUBLIC_KEY (a 2048-bit RSA key); ${fmtInt(users)} users ` +
          'round robin, a UUID Idempotency-Key per request. Before the warm-up each engine gets every token once, so the runs measure ' +
          'customers whose token the engine has verified before (the steady state of a sale); the first sight of a token costs the row below.',
        `auth: first verification of a token in the bench process (${fmtInt(SAMPLE)} tokens): HS256 with node:crypto (the engine's HS256 path), ` +
          'HS256 with jose (not used: WebCrypto and a promise per token), RS256 with jose (the engine\'s identity-provider path).',
        `auth: engine CPU per request: user + system time of each engine process (API and worker) over ${fmtInt(CPU_REQUESTS)} more requests ` +
          'with the same tokens, one engine at a time; steadier than req/s when the machine is shared.',
      ]);
      const rows: Row[] = [
        {
          metric: `engine CPU per request, µs (${fmtInt(CPU_REQUESTS)} requests each)`,
          value: cpuPerRequestUs.RS256!.toFixed(0),
          baseline: cpuPerRequestUs.HS256!.toFixed(0),
          ratio: fmtRatio(cpuPerRequestUs.RS256! / cpuPerRequestUs.HS256!),
        },
        {
          metric: `floor: HS256 with tokens as long as RS256 ones (${rsLength} characters): req/s (median) vs HS256; engine CPU µs per request`,
          value: `${fmtInt(c.median['HS256, RS256-long tokens']!.rps)}; ${cpuPerRequestUs['HS256, RS256-long tokens']!.toFixed(0)} µs`,
          baseline: `${fmtInt(c.median.HS256!.rps)}; ${cpuPerRequestUs.HS256!.toFixed(0)} µs`,
          ratio: fmtRatio(c.median['HS256, RS256-long tokens']!.rps / c.median.HS256!.rps),
        },
        {
          metric: 'RS256 vs the floor (tokens of the same length): req/s (median)',
          value: fmtInt(c.median.RS256!.rps),
          baseline: fmtInt(c.median['HS256, RS256-long tokens']!.rps),
          ratio: fmtRatio(c.median.RS256!.rps / c.median['HS256, RS256-long tokens']!.rps),
        },
        {
          metric: 'µs per first verification: HS256 node:crypto / HS256 jose / RS256 jose',
          value: [cost.hs256NodeCrypto, cost.hs256Jose, cost.rs256Jose].map((us) => us.toFixed(1)).join(' / '),
        },
      ];
      return { ...result, rows: [...result.rows, ...rows], raw: { ...(result.raw as object), cpuPerRequestUs, verificationMicros: cost } };
    } finally {
      await Promise.allSettled(engines.map((e) => e.stop()));
    }
  },
};
