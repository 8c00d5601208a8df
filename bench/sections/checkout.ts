import postgres from 'postgres';
import type { EngineProcess } from '../../src/tools/engine-process.js';
import { OK, type CheckoutSpec, type DriverResult } from '../lib/checkout.js';
import { createProduct } from '../lib/engine-api.js';
import { fmtInt, fmtLatencies, fmtMs } from '../lib/format.js';
import { PaidLagTracker, waitForOrders, type LagResult } from '../lib/paid-lag.js';
import { runScript } from '../lib/processes.js';
import type { BenchContext, Row, Section } from '../lib/types.js';

/** SPEC: a paid order appears in Postgres "within seconds". */
const MAX_LAG_P99_MS = 5_000;

type Base = Omit<CheckoutSpec, 'mode' | 'productId'>;

export const drive = (spec: CheckoutSpec, opts: { stdin?: string; onLine?: (line: string) => void } = {}) =>
  runScript<DriverResult>('checkout-driver.ts', [JSON.stringify(spec)], opts);

/** units that succeeded (flows completed, orders created, webhooks applied) */
const succeeded = (r: DriverResult) => r.run.statusCodes[OK] ?? 0;
const failures = (r: DriverResult) =>
  Object.entries(r.run.statusCodes).filter(([k]) => k !== OK).map(([k, n]) => `${k}: ${fmtInt(n)}`).join(', ') || 'none';

/** Hold → order → payment webhook, as many flows as the VUs manage, after a warm-up. */
async function flowPhase(ctx: BenchContext, engine: EngineProcess, base: Base): Promise<DriverResult> {
  const productId = await createProduct(engine, 'checkout', 10_000_000);
  ctx.log(`  flows: warm-up ${ctx.opts.warmup} s, then ${ctx.opts.duration} s, ${base.vus} VUs`);
  await drive({ ...base, mode: 'flows', productId, durationS: ctx.opts.warmup });
  const flows = await drive({ ...base, mode: 'flows', productId, durationS: ctx.opts.duration });
  ctx.log(`  flows: ${fmtInt(flows.run.rps)}/s, p50/p97.5/p99 ${fmtLatencies(flows.run)}, failed: ${failures(flows)}`);
  return flows;
}

interface WebhookPhase {
  prepared: DriverResult;
  /** seconds until every prepared (pending) order was in Postgres, before any webhook was sent */
  persistedAfterS: number;
  webhooks: DriverResult;
  lag: LagResult;
}

/** Pending orders first (and persisted), then their payment webhooks as fast as possible, with the paid lag. */
async function webhookPhase(ctx: BenchContext, engine: EngineProcess, base: Base): Promise<WebhookPhase> {
  const n = ctx.opts.webhookOrders;
  const productId = await createProduct(engine, 'webhooks', n);
  ctx.log(`  webhooks: creating ${fmtInt(n)} pending orders`);
  const prepared = await drive({ ...base, mode: 'prepare', productId, orders: n });
  const orders = prepared.orders ?? [];
  const sql = postgres(engine.databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const persistedAfterS = await waitForOrders(sql, productId, orders.length, 120_000);
    ctx.log(`  webhooks: ${fmtInt(orders.length)} orders in Postgres after ${persistedAfterS.toFixed(1)} s; firing their webhooks`);
    const tracker = new PaidLagTracker(sql);
    const webhooks = await drive({ ...base, mode: 'webhooks', productId }, { stdin: JSON.stringify(orders), onLine: (l) => tracker.onLine(l) });
    const lag = await tracker.finish(30_000);
    ctx.log(`  webhooks: ${fmtInt(webhooks.run.rps)}/s, p50/p97.5/p99 ${fmtLatencies(webhooks.run)}; paid lag p50/p99 ${fmtMs(lag.p50)} / ${fmtMs(lag.p99)} ms`);
    return { prepared, persistedAfterS, webhooks, lag };
  } finally {
    await sql.end();
  }
}

function rows(flows: DriverResult, w: WebhookPhase, vus: number): Row[] {
  const { lag } = w;
  const all = lag.seen === lag.applied && lag.applied > 0;
  return [
    {
      metric: `checkout flows/s (hold → order → webhook, ${vus} VUs)`,
      value: fmtInt(flows.run.rps),
      baseline: `${fmtInt(flows.run.rps * 3)} req/s; ${fmtInt(succeeded(flows))} flows in ${flows.run.durationS.toFixed(1)} s`,
    },
    { metric: 'flow latency p50 / p97.5 / p99', value: fmtLatencies(flows.run) },
    {
      metric: 'failed flows',
      value: `${fmtInt(flows.run.requests - succeeded(flows))} of ${fmtInt(flows.run.requests)}`,
      baseline: failures(flows),
      target: '0',
      pass: flows.run.requests === succeeded(flows),
    },
    {
      metric: `payment webhooks/s (${fmtInt(succeeded(w.prepared))} pending orders, ${vus} connections)`,
      value: fmtInt(w.webhooks.run.rps),
      baseline: `not applied: ${failures(w.webhooks)}`,
      target: 'all applied',
      pass: w.webhooks.run.requests === succeeded(w.webhooks),
    },
    { metric: 'webhook latency p50 / p97.5 / p99', value: fmtLatencies(w.webhooks.run) },
    {
      metric: "webhook 200 → order 'paid' in Postgres, lag p50 / p99 (max)",
      value: `${fmtMs(lag.p50)} / ${fmtMs(lag.p99)} ms (max ${fmtMs(lag.max)})`,
      baseline: `${fmtInt(lag.seen)} of ${fmtInt(lag.applied)} seen; polled every ${lag.pollMs.toFixed(0)} ms`,
      target: `all, p99 ≤ ${fmtInt(MAX_LAG_P99_MS)} ms`,
      pass: all && lag.p99 <= MAX_LAG_P99_MS,
    },
  ];
}

/** Full checkout flows per second, and payment-webhook throughput with the time until Postgres shows the order paid. */
export const checkoutSection: Section = {
  name: 'checkout',
  title: 'Checkout flows and payment webhooks',
  async run(ctx) {
    const engine = await ctx.engine();
    const { adminToken, jwtSecret, webhookSecret } = engine;
    const base: Base = { url: engine.url, credentials: { adminToken, jwtSecret, webhookSecret }, vus: ctx.opts.connections, users: ctx.opts.users };
    const flows = await flowPhase(ctx, engine, base);
    const w = await webhookPhase(ctx, engine, base);
    return {
      rows: rows(flows, w, base.vus),
      runs: [
        { label: 'checkout flows', ...flows.run },
        { label: 'prepare: hold + order', ...w.prepared.run },
        { label: 'payment webhooks', ...w.webhooks.run },
      ],
      chart: [
        {
          title: 'checkout (hold → order → webhook)',
          bars: [
            { label: 'flows', rps: flows.run.rps, p99: flows.run.p99 },
            { label: 'webhooks', rps: w.webhooks.run.rps, p99: w.webhooks.run.p99 },
          ],
        },
      ],
      notes: [
        `checkout: a separate driver process (bench/checkout-driver.ts, keep-alive node:http) runs ${base.vus} VUs; a flow is POST /api/holds ` +
          '(with an Idempotency-Key) → POST /api/orders → signed payment.succeeded webhook, and counts only when all three succeed (201, 201, 200 applied); ' +
          'req/s in the Runs table is flows or webhooks per second, latency is per flow or webhook.',
        `checkout webhooks: ${fmtInt(ctx.opts.webhookOrders)} orders created first; all were in Postgres (pending) ${w.persistedAfterS.toFixed(1)} s after ` +
          "the last was created; then their webhooks were fired. The bench polls the engine's orders table for the ids answered 200 and " +
          'records for each the time from its 200 to the first poll that sees it paid (an upper bound, late by up to one poll).',
      ],
      raw: { flows, prepared: { ...w.prepared, orders: undefined }, persistedAfterS: w.persistedAfterS, webhooks: w.webhooks, lag: w.lag },
    };
  },
};
