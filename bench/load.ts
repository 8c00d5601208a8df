/**
 * The load generator, run in its own process by `bench/lib/processes.ts`:
 *   node --import tsx bench/load.ts '<LoadSpec as JSON>'
 * Prints autocannon's result as JSON on stdout.
 */
import { randomUUID } from 'node:crypto';
import autocannon from 'autocannon';
import { signJwt } from '../src/http/jwt.js';
import type { LoadSpec } from './lib/types.js';

const spec = JSON.parse(process.argv[2] ?? '') as LoadSpec;

const exp = Math.floor(Date.now() / 1000) + 24 * 3600;
const tokens = Array.from({ length: spec.auth?.users ?? 0 }, (_, i) => {
  const sub = `user-${String(i).padStart(6, '0')}`;
  return `Bearer ${signJwt(spec.auth!.jwtSecret, { sub, exp })}`;
});

let n = 0;
const varies = tokens.length > 0 || spec.idempotencyKeys === true;
const setupRequest = (req: autocannon.Request): autocannon.Request => {
  const headers = { ...req.headers };
  if (tokens.length > 0) headers.authorization = tokens[n % tokens.length];
  if (spec.idempotencyKeys) headers['idempotency-key'] = randomUUID();
  n++;
  return { ...req, headers };
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
