// k6: the `checkout` scenario of loadtests/scenarios.json. See loadtests/README.md.
// Start the engine with short TTLs (e.g. HOLD_TTL_MS=3000 PAYMENT_TTL_MS=4000, as in scenarios.json
// engine_env) and pass -e DRAIN=30 to check that abandoned holds and orders expire.
import { sleep } from 'k6';
import { adminProduct, createProduct } from './lib/api.js';
import { runId, settings } from './lib/config.js';
import { checkoutFlow } from './lib/flows.js';
import { rule, SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/rules.js';
import { summarize } from './lib/summary.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'checkout');

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { checkout: { executor: 'constant-vus', vus: cfg.vus, duration: `${cfg.durationS}s` } },
  thresholds: thresholds(cfg),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: `${cfg.drainS + 60}s`,
};

/** @typedef {{ runId: string, productId: string }} Data */

/** @returns {Data} */
export function setup() {
  const id = runId();
  const productId = `lt-checkout-item-${id}`;
  createProduct(cfg.target, cfg.product, { id: productId, stock: cfg.def.stock });
  return { runId: id, productId };
}

/** @param {Data} data */
export default function (data) {
  checkoutFlow(cfg, data, data.productId, cfg.def.flow);
}

/** @param {Data} data */
export function teardown(data) {
  if (cfg.drainS > 0) {
    const deadline = Date.now() + cfg.drainS * 1000;
    let stock = adminProduct(cfg.target, data.productId).stock;
    while ((stock.held > 0 || stock.pending_payment > 0) && Date.now() < deadline) {
      sleep(0.25);
      stock = adminProduct(cfg.target, data.productId).stock;
    }
    rule('abandoned holds and orders expire', stock.held === 0 && stock.pending_payment === 0, () => `after ${cfg.drainS}s still held ${stock.held}, pending ${stock.pending_payment}`);
  }
  verifyProducts(cfg.target, [data.productId]);
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data);
}
