// k6: the `webhook-storm` scenario of loadtests/scenarios.json (steps in loadtests/steps/webhook-storm.js). See loadtests/README.md.
// Each iteration takes a fresh order through one case (duplicated, concurrent, reordered deliveries).
import * as storm from '../steps/webhook-storm.js';
import { runId, settings } from './lib/config.js';
import { engine, stepContext } from './lib/runtime.js';
import { summarize } from './lib/summary.js';
import { SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/thresholds.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'webhook-storm');
const { api, admin } = engine(cfg.target);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { storm: { executor: 'constant-vus', vus: cfg.vus, duration: `${cfg.durationS}s` } },
  thresholds: thresholds(cfg),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

/** @typedef {import('../steps/webhook-storm.js').StormState & { runId: string }} Data */

/** @returns {Promise<Data>} */
export async function setup() {
  const id = runId();
  return { ...(await storm.setup(admin, { ...cfg, runId: id })), runId: id };
}

/** @param {Data} data */
export default async function (data) {
  await storm.iteration(stepContext(cfg, api, data.runId), cfg.def, data, cfg.vus);
}

/** @param {Data} data */
export async function teardown(data) {
  await verifyProducts(admin, [data.productId]);
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data);
}
