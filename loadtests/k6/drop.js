// k6: the `drop` scenario of loadtests/scenarios.json (steps in loadtests/steps/drop.js). See loadtests/README.md.
// Every VU is one customer: it waits on its product's page until the sale opens, races for a hold, and
// checks out if it won.
import { Counter } from 'k6/metrics';
import * as drop from '../steps/drop.js';
import { settings, setupOpening } from './lib/config.js';
import { engine, stepContext } from './lib/runtime.js';
import { summarize } from './lib/summary.js';
import { SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/thresholds.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'drop');
const { api, admin } = engine(cfg.target);
const holdsWon = new Counter('holds_won');
const answered = new Counter('customers_answered');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    drop: { executor: 'per-vu-iterations', vus: cfg.vus, iterations: 1, maxDuration: `${cfg.durationS}s` },
  },
  thresholds: thresholds(cfg, { holds_won: [`count>=${drop.winnable(cfg.def, cfg.vus)}`], customers_answered: [`count==${cfg.vus}`] }),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

/** @typedef {import('../steps/drop.js').DropState & { runId: string, deadline: number }} Data */

/** @returns {Promise<Data>} */
export const setup = () => setupOpening(cfg, admin, drop.setup);

/** One customer, from the product page to an answer (and a checkout when it won). @param {Data} data */
export default async function (data) {
  const ctx = stepContext(cfg, api, data.runId);
  /** @type {import('../steps/drop.js').DropStep} */
  let outcome = 'waiting';
  while ((outcome === 'waiting' || outcome === 'retry') && Date.now() < data.deadline) outcome = await drop.step(ctx, cfg.def, data);
  if (outcome !== 'won' && outcome !== 'sold_out') return;
  answered.add(1);
  if (outcome === 'won') holdsWon.add(1);
}

/** @param {Data} data */
export async function teardown(data) {
  await verifyProducts(admin, data.productIds);
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data);
}
