// k6: the `drop-queue` scenario of loadtests/scenarios.json (steps in loadtests/steps/drop-queue.js). See loadtests/README.md.
// Every VU drives every VUS-th customer of the crowd: they join the waiting room before and after the
// opening, poll as their ticket advises, and check out once admitted.
import { Counter } from 'k6/metrics';
import * as dropQueue from '../steps/drop-queue.js';
import { settings, setupOpening } from './lib/config.js';
import { engine, stepContext } from './lib/runtime.js';
import { summarize } from './lib/summary.js';
import { DISPLAY_ONLY, rule, SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/thresholds.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'drop-queue');
const { api, admin } = engine(cfg.target);
const joins = new Counter('joins');
const polls = new Counter('polls');
const holdAttempts = new Counter('hold_attempts');
const holds = new Counter('holds');
/** customers by final status (tag `status`) */
const customersFinal = new Counter('customers_final');
const byStatus = Object.keys(dropQueue.newTally().final).map((status) => `customers_final{status:${status}}`);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    'drop-queue': { executor: 'per-vu-iterations', vus: cfg.vus, iterations: 1, maxDuration: `${cfg.durationS}s` },
  },
  thresholds: thresholds(cfg, {
    customers_final: [`count==${cfg.def.customers}`],
    // (display only: makes k6 keep the count per status for the summary)
    ...Object.fromEntries(byStatus.map((m) => [m, [DISPLAY_ONLY[1] ?? '']])),
  }),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

/** @typedef {import('../steps/drop-queue.js').DropQueueState & { runId: string, deadline: number }} Data */

/** @returns {Promise<Data>} */
export const setup = () => setupOpening(cfg, admin, dropQueue.setup);

/** This VU's customers, from arriving to a final status; then what they did goes into the counters. @param {Data} data */
export default async function (data) {
  const ctx = stepContext(cfg, api, data.runId);
  const tally = dropQueue.newTally();
  const crowd = dropQueue.crowd(ctx, cfg.def, data, cfg.vus, tally);
  while (Date.now() < data.deadline && (await dropQueue.step(ctx, cfg.def, data, crowd)));
  joins.add(tally.joins);
  polls.add(tally.polls);
  holdAttempts.add(tally.holdAttempts);
  holds.add(tally.holds);
  for (const [status, n] of Object.entries(tally.final)) customersFinal.add(n, { status });
}

/** @param {Data} data */
export async function teardown(data) {
  const [stock] = await verifyProducts(admin, [data.productId]);
  if (stock) rule('no oversell (sold <= stock)', stock.sold <= cfg.def.stock, () => `sold ${stock.sold} of ${cfg.def.stock}`);
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data, [], ['joins', 'polls', 'hold_attempts', 'holds', ...byStatus]);
}
