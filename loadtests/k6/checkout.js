// k6: the `checkout` scenario of loadtests/scenarios.json (steps in loadtests/steps/checkout.js). See loadtests/README.md.
// Start the engine with short TTLs (e.g. HOLD_TTL_MS=3000 PAYMENT_TTL_MS=4000, as in scenarios.json
// engine_env) and pass -e DRAIN=30 to check that abandoned holds and orders expire.
import * as checkout from '../steps/checkout.js';
import { CHECKS, drained } from '../steps/rules.js';
import { runId, settings } from './lib/config.js';
import { engine, sleep, stepContext } from './lib/runtime.js';
import { summarize } from './lib/summary.js';
import { rule, SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/thresholds.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'checkout');
const { api, admin } = engine(cfg.target);

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { checkout: { executor: 'constant-vus', vus: cfg.vus, duration: `${cfg.durationS}s` } },
  thresholds: thresholds(cfg),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: `${cfg.drainS + 60}s`,
};

/** @typedef {import('../steps/checkout.js').CheckoutState & { runId: string }} Data */

/** @returns {Promise<Data>} */
export async function setup() {
  const id = runId();
  return { ...(await checkout.setup(admin, { ...cfg, runId: id })), runId: id };
}

/** @param {Data} data */
export default async function (data) {
  await checkout.iteration(stepContext(cfg, api, data.runId), cfg.def, data);
}

/** @param {Data} data */
export async function teardown(data) {
  if (cfg.drainS > 0) {
    const expired = await drained(admin, [data.productId], cfg.drainS * 1000, sleep);
    rule(CHECKS.drained, expired.ok, () => expired.detail);
  }
  await verifyProducts(admin, [data.productId]);
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data);
}
