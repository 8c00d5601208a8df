/**
 * The load generator, run in its own process by `bench/lib/processes.ts`:
 *   node --import tsx bench/load.ts < '<LoadSpec as JSON>'
 * Prints autocannon's result as JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { importPKCS8, SignJWT } from 'jose';
import { signJwt } from '../src/http/jwt.js';
import type { LoadSpec } from './lib/types.js';

const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const spec = JSON.parse(Buffer.concat(chunks).toString('utf8')) as LoadSpec;

/**
 * Midnight UTC one or two days ahead: the same in every load process of a bench, so each run sends the
 * very tokens the engine verified in the runs before, as a customer keeps its token during a sale.
 */
const exp = (Math.floor(Date.now() / 86_400_000) + 2) * 86_400;

/** Signs a token for a user the way the engine under test expects: HS256, or RS256 like an identity provider. */
async function signer(auth: NonNullable<LoadSpec['auth']>): Promise<(sub: string) => Promise<string>> {
  if ('jwtSecret' in auth) {
    const unpadded = signJwt(auth.jwtSecret, { sub: 'user-000000', exp }).length;
    // base64url turns 3 bytes of claims into 4 characters
    const pad = auth.padTo ? { pad: 'x'.repeat(Math.max(0, Math.floor(((auth.padTo - unpadded) * 3) / 4) - 10)) } : {};
    return async (sub) => signJwt(auth.jwtSecret, { sub, exp, ...pad });
  }
  const key = await importPKCS8(auth.rs256.privateKeyPem, 'RS256');
  return (sub) => new SignJWT({ sub, exp }).setProtectedHeader({ alg: 'RS256', typ: 'JWT' }).sign(key);
}

const sign = spec.auth ? await signer(spec.auth) : null;
const tokens = await Promise.all(
  Array.from({ length: spec.auth?.users ?? 0 }, async (_, i) => `Bearer ${await sign!(`user-${String(i).padStart(6, '0')}`)}`),
);

let n = 0;
const bodies = spec.bodies ?? [];
const varies = tokens.length > 0 || spec.idempotencyKeys === true || bodies.length > 0;
const setupRequest = (req: autocannon.Request): autocannon.Request => {
  const headers = { ...req.headers };
  if (tokens.length > 0) headers.authorization = tokens[n % tokens.length];
  if (spec.idempotencyKeys) headers['idempotency-key'] = randomUUID();
  n++;
  return bodies.length > 0 ? { ...req, headers, body: bodies[Math.floor(Math.random() * bodies.length)] } : { ...req, headers };
};

const result = await autocannon({
  url: spec.url,
  method: spec.method,
  body: spec.body,
  headers: spec.headers,
  connections: spec.connections,
  ...(spec.amount ? { amount: spec.amount } : { duration: spec.duration ?? 10 }),
  ...(varies ? { requests: [{ setupRequest }] } : {}),
});
process.stdout.write(JSON.stringify(result));
