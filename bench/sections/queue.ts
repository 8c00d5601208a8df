import { randomBytes } from 'node:crypto';
import { loadScenarioFile, type ScenarioDefs } from '../../loadtests/lib/scenario-config.js';
import { runScenario, type RunSummary } from '../../loadtests/runner/run-scenario.js';
import { compareAlternating, comparisonResult, type RequestShape } from '../lib/compare.js';
import { fmtInt, fmtRatio } from '../lib/format.js';
import type { BenchContext, Row, Section } from '../lib/types.js';
import type { CreateProductBody } from '../../src/contract.js';
import type { EngineProcess } from '../../src/tools/engine-process.js';

/** A waiting-room product whose line is open and admits nobody (no stock): joins and polls only. */
async function queueProduct(engine: EngineProcess): Promise<string> {
  const id = `bench-queue-${randomBytes(3).toString('hex')}`;
  const res = await fetch(`${engine.url}/api/admin/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${engine.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: 'bench queue', unit_price_minor: 1999, currency: 'EUR', stock: 0, admission: 'queue' } satisfies CreateProductBody),
  });
  if (!res.ok) throw new Error(`creating the queue product: ${res.status} ${await res.text()}`);
  return id;
}

type DropQueueDef = ScenarioDefs['drop-queue'];

/** How long a crowd may take; it ends once every customer has a final answer (about a minute). */
const CROWD_MAX_S = 180;

/**
 * The drop-queue load scenario's crowd at a product of `admission` on an engine of its own: every holder
 * pays and nobody dawdles or pushes, so the two runs differ only in how the product admits customers.
 */
async function crowd(ctx: BenchContext, admission: 'open' | 'queue', { flow }: DropQueueDef): Promise<RunSummary> {
  ctx.log(`  crowd, ${admission}: ${fmtInt(ctx.opts.dropCustomers)} customers for ${fmtInt(ctx.opts.dropStock)} units, on an engine of its own`);
  const s = await runScenario('drop-queue', {
    durationS: CROWD_MAX_S,
    progress: 'never',
    log: (line) => ctx.log(`    ${line}`),
    overrides: {
      admission,
      customers: ctx.opts.dropCustomers,
      stock: ctx.opts.dropStock,
      impatient_share: 0,
      miss_window_share: 0,
      flow: { ...flow, abandon_hold_share: 0, abandon_payment_share: 0, payment_failed_share: 0 },
    },
  });
  if (!s.pass) ctx.log(`  crowd, ${admission}: FAIL ${s.checks.filter((c) => c.state === 'fail').map((c) => c.name).join('; ')}`);
  return s;
}

const holdRequests = (s: RunSummary) => s.requests.find((r) => r.name === 'POST /api/holds')?.count ?? 0;
const lastAnswerS = (s: RunSummary) => (s.counts.last_answer_after_opening_ms ?? NaN) / 1000;
const sold = (s: RunSummary) => s.products[0]?.stock?.sold ?? 0;

/** The crowd's rows: the waiting room in the engine column, the open product as the basis. */
function crowdRows(open: RunSummary, queue: RunSummary, stock: number): Row[] {
  const saved = holdRequests(open) - holdRequests(queue);
  const versus = (metric: string, of: (s: RunSummary) => number, fmt = fmtInt): Row => ({
    metric: `crowd: ${metric}, queue vs open`,
    value: fmt(of(queue)),
    baseline: fmt(of(open)),
    ratio: fmtRatio(of(queue) / of(open)),
  });
  return [
    versus('POST /api/holds sent', holdRequests),
    { metric: 'crowd: POST /api/holds saved by the waiting room', value: fmtInt(saved), baseline: `of ${fmtInt(holdRequests(open))}`, ratio: `${((100 * saved) / holdRequests(open)).toFixed(1)} %` },
    versus('requests sent (all)', (s) => s.total.count),
    versus('last final answer, s after the opening', lastAnswerS, (n) => n.toFixed(1)),
    {
      ...versus('units sold', sold),
      target: `= ${fmtInt(stock)}, every check passes`,
      pass: sold(queue) === stock && sold(open) === stock && queue.pass && open.pass,
    },
  ];
}

/**
 * The waiting room's two customer requests against the plain endpoint: joining (a ticket per customer,
 * then the same ticket again) and polling it (answered from the process's view of the line); then what
 * a waiting room saves: the same crowd at an open product and at a queued one.
 */
export const queueSection: Section = {
  name: 'queue',
  title: 'Waiting room: joins, polls, and the holds a queued drop saves',
  async run(ctx) {
    const [engine, plain] = await Promise.all([ctx.engine(), ctx.plain()]);
    const productId = await queueProduct(engine);
    const auth = { jwtSecret: engine.jwtSecret, users: ctx.opts.users };
    const plainRequest: RequestShape = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', auth };
    const join: RequestShape = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', auth };
    const poll: RequestShape = { method: 'GET', auth };
    const path = `/api/products/${productId}/queue`;
    ctx.log('  joins');
    const joins = await compareAlternating(ctx, [
      { name: 'plain', url: `${plain.url}/json`, request: plainRequest },
      { name: 'engine', url: `${engine.url}${path}`, request: join },
    ]);
    ctx.log('  polls');
    const polls = await compareAlternating(ctx, [
      { name: 'plain', url: `${plain.url}/json`, request: plainRequest },
      { name: 'engine', url: `${engine.url}${path}`, request: poll },
    ]);
    const def = loadScenarioFile().scenarios['drop-queue'];
    const open = await crowd(ctx, 'open', def);
    const queue = await crowd(ctx, 'queue', def);
    // the first round of joins creates tickets (201), the rest answer them again (200)
    const joined = comparisonResult(joins, { expectedStatus: 200, chartTitle: 'queue joins' });
    const polled = comparisonResult(polls, { expectedStatus: 200, chartTitle: 'queue polls' });
    const label = (what: string, rows: typeof joined.rows) => rows.map((r) => ({ ...r, metric: `${what}: ${r.metric}` }));
    return {
      rows: [...label('joins', joined.rows), ...label('polls', polled.rows), ...crowdRows(open, queue, ctx.opts.dropStock)],
      runs: [...(joined.runs ?? []), ...(polled.runs ?? [])],
      chart: [...(joined.chart ?? []), ...(polled.chart ?? [])],
      notes: [
        `queue: a waiting room with stock 0 (nobody is admitted), ${fmtInt(ctx.opts.users)} customers round robin; ` +
          'the first join of each is a 201, later ones 200; the plain endpoint gets POST /json {} for both.',
        `crowd: the drop-queue load scenario (loadtests/) twice, each on an engine of its own: ${fmtInt(ctx.opts.dropCustomers)} customers ` +
          `for ${fmtInt(ctx.opts.dropStock)} units, arriving evenly over ${def.arrivals_s} s with the sale opening ${def.opens_in_s} s in, ${def.vus} VUs; ` +
          'every holder pays, nobody asks for a hold out of turn or lets a window pass. open: each customer sends POST /api/holds until it gets ' +
          `a hold or 409 insufficient_stock, again after 409 sale_not_started every ${fmtInt(def.retry_ms)} ms (±50 %; Retry-After when sent). queue: each joins, ` +
          'reads its ticket when poll_after_s says and holds once admitted (and reads the ticket once more after its hold, the scenario\'s ' +
          'check); waiting customers learn sold_out at their next poll, up to 30 s apart far back in the line. ' +
          'Requests include 429s waited out. Last final answer: when the last customer was told bought or sold out.',
      ],
      raw: { joins, polls, crowd: { open, queue } },
    };
  },
};
