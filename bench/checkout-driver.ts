/**
 * The checkout load generator, run in its own process by `sections/checkout.ts`:
 *   node --import tsx bench/checkout-driver.ts '<CheckoutSpec as JSON>'   (webhooks mode: orders on stdin)
 * Keep-alive node:http (the load tests' HTTP adapter); prints lines of JSON, the last one a DriverResult.
 */
import { Histogram } from '../loadtests/lib/histogram.js';
import { nodeCrypto } from '../loadtests/lib/node-crypto.js';
import { nodeHttp } from '../loadtests/lib/node-http.js';
import { Recorder } from '../loadtests/lib/recorder.js';
import { EngineApi } from '../loadtests/steps/api.js';
import { customerToken } from '../loadtests/steps/auth.js';
import { holdAndOrder, OK, pay, type CheckoutSpec, type DriverResult, type PaidLine, type PendingOrder } from './lib/checkout.js';
import type { RunSummary } from './lib/summary.js';

const spec = JSON.parse(process.argv[2] ?? '') as CheckoutSpec;
const recorder = new Recorder();
const transport = nodeHttp(spec.url);
const engine = new EngineApi({ baseUrl: spec.url, http: transport.http, crypto: nodeCrypto, credentials: spec.credentials, record: (o) => recorder.record(o) });
const tokens = Array.from({ length: spec.users }, (_, i) => customerToken(nodeCrypto, spec.credentials.jwtSecret, `user-${String(i).padStart(6, '0')}`, 24 * 3600));
let next = 0;
const token = () => tokens[next++ % tokens.length]!;

/**
 * `spec.vus` workers take units of work while `more(i)` says so (i = the unit's number); each unit
 * returns OK or why it failed. Latency percentiles are over the successful units.
 */
async function drive(more: (i: number) => boolean, unit: (i: number) => Promise<string>): Promise<RunSummary> {
  const hist = new Histogram();
  const outcomes: Record<string, number> = {};
  let taken = 0;
  recorder.start();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: spec.vus }, async () => {
      while (more(taken)) {
        const t0 = performance.now();
        const outcome = await unit(taken++);
        if (outcome === OK) hist.record(performance.now() - t0);
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
      }
    }),
  );
  const durationS = (performance.now() - started) / 1000;
  recorder.stop();
  const failed = Object.entries(outcomes).filter(([k]) => k !== OK);
  const count = (pred: (k: string) => boolean) => failed.reduce((n, [k, c]) => (pred(k) ? n + c : n), 0);
  return {
    rps: (outcomes[OK] ?? 0) / durationS,
    p50: hist.percentile(50),
    p97_5: hist.percentile(97.5),
    p99: hist.percentile(99),
    requests: taken,
    non2xx: count((k) => !k.endsWith('network_error')),
    errors: count((k) => k.endsWith('network_error')),
    statusCodes: outcomes,
    durationS,
  };
}

async function readStdin(): Promise<string> {
  let s = '';
  for await (const chunk of process.stdin) s += String(chunk);
  return s;
}

const result: DriverResult = { mode: spec.mode, run: undefined!, steps: [] };
if (spec.mode === 'flows') {
  const deadline = performance.now() + (spec.durationS ?? 10) * 1000;
  result.run = await drive(
    () => performance.now() < deadline,
    async () => {
      const order = await holdAndOrder(engine, token(), spec.productId);
      return typeof order === 'string' ? order : pay(engine, order);
    },
  );
} else if (spec.mode === 'prepare') {
  const orders: PendingOrder[] = [];
  result.run = await drive(
    (i) => i < (spec.orders ?? 0),
    async () => {
      const order = await holdAndOrder(engine, token(), spec.productId);
      if (typeof order === 'string') return order;
      orders.push(order);
      return OK;
    },
  );
  result.orders = orders;
} else {
  const orders = JSON.parse(await readStdin()) as PendingOrder[];
  result.run = await drive(
    (i) => i < orders.length,
    async (i) => {
      const outcome = await pay(engine, orders[i]!);
      if (outcome === OK) process.stdout.write(`${JSON.stringify({ paid: orders[i]!.order_id, t: Date.now() } satisfies PaidLine)}\n`);
      return outcome;
    },
  );
}
result.steps = recorder.stats().requests;
transport.close();
process.stdout.write(`${JSON.stringify(result)}\n`);
