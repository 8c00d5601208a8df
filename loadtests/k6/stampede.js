// k6: the `stampede` scenario of loadtests/scenarios.json (steps in loadtests/steps/stampede.js). See loadtests/README.md.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e ADMIN_TOKEN=... -e JWT_SECRET=... -e WEBHOOK_SECRET=... loadtests/k6/stampede.js
import { Counter } from 'k6/metrics';
import { unitsTaken } from '../steps/rules.js';
import * as stampede from '../steps/stampede.js';
import { runId, settings } from './lib/config.js';
import { engine, stepContext } from './lib/runtime.js';
import { summarize } from './lib/summary.js';
import { rule, SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/thresholds.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'stampede');
const { api, admin } = engine(cfg.target);
/** holds a customer can win: min(customers, stock / qty) */
const winnable = Math.min(cfg.vus, Math.floor(cfg.def.stock / cfg.def.qty));
const holdsWon = new Counter('holds_won');
const answered = new Counter('customers_answered');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: {
    stampede: { executor: 'per-vu-iterations', vus: cfg.vus, iterations: 1, maxDuration: `${cfg.durationS}s` },
  },
  thresholds: thresholds(cfg, { holds_won: [`count==${winnable}`], customers_answered: [`count==${cfg.vus}`] }),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

/** @typedef {import('../steps/stampede.js').StampedeState & { runId: string, deadline: number }} Data */

/** @returns {Promise<Data>} */
export async function setup() {
  const id = runId();
  const state = await stampede.setup(admin, { ...cfg, runId: id });
  return { ...state, runId: id, deadline: Date.now() + cfg.durationS * 1000 };
}

/** One customer: product page open, then tries for a hold until it has one or the product is sold out. @param {Data} data */
export default async function (data) {
  const ctx = stepContext(cfg, api, data.runId);
  await admin.getProduct(data.productId);
  /** @type {'won' | 'sold_out' | 'retry'} */
  let outcome = 'retry';
  while (outcome === 'retry' && Date.now() < data.deadline) outcome = await stampede.attempt(ctx, cfg.def, data);
  if (outcome === 'retry') return;
  answered.add(1);
  if (outcome === 'won') holdsWon.add(1);
}

/** @param {Data} data */
export async function teardown(data) {
  const [stock] = await verifyProducts(admin, [data.productId]);
  if (stock) {
    const taken = unitsTaken(stock, winnable * cfg.def.qty);
    rule('held stock = units winnable (no oversell)', taken.ok, () => taken.detail);
  }
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data);
}
