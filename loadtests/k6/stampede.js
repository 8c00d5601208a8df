// k6: the `stampede` scenario of loadtests/scenarios.json. See loadtests/README.md.
//   k6 run -e BASE_URL=http://127.0.0.1:3000 -e ADMIN_TOKEN=... -e JWT_SECRET=... -e WEBHOOK_SECRET=... loadtests/k6/stampede.js
import { sleep } from 'k6';
import { Counter } from 'k6/metrics';
import { createProduct, EXPECT, getProduct, placeHold } from './lib/api.js';
import { runId, settings } from './lib/config.js';
import { customer } from './lib/flows.js';
import { rule, SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/rules.js';
import { summarize } from './lib/summary.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'stampede');
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

/** @typedef {{ runId: string, productId: string, opensAt: number, deadline: number }} Data */

/** @returns {Data} */
export function setup() {
  const id = runId();
  const productId = `lt-stampede-drop-${id}`;
  const opensAt = Date.now() + cfg.def.opens_in_s * 1000;
  createProduct(cfg.target, cfg.product, { id: productId, stock: cfg.def.stock, sale_starts_at: new Date(opensAt).toISOString() });
  return { runId: id, productId, opensAt, deadline: Date.now() + cfg.durationS * 1000 };
}

/** One customer: product page open, then POST /api/holds until it has a hold or the product is sold out. @param {Data} data */
export default function (data) {
  const { token, userId } = customer(cfg, data);
  getProduct(cfg.target, data.productId, 'admin');
  while (Date.now() < data.deadline) {
    const res = placeHold(cfg.target, token, data.productId, cfg.def.qty, {
      idempotencyKey: userId,
      expect: [...EXPECT.hold, '409 sale_not_started'],
    });
    if (res.status === 201) {
      holdsWon.add(1);
      answered.add(1);
      rule('no hold before the sale opens', Date.parse(res.body.created_at) >= data.opensAt, () => `${res.body.id} created ${res.body.created_at}`);
      return;
    }
    if (res.code === 'insufficient_stock') {
      answered.add(1);
      return;
    }
    const retryAfterS = Number(res.headers['Retry-After']);
    const base = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : cfg.def.retry_ms;
    sleep((base * (0.5 + Math.random())) / 1000);
  }
}

/** @param {Data} data */
export function teardown(data) {
  const [stock] = verifyProducts(cfg.target, [data.productId]);
  const units = winnable * cfg.def.qty;
  if (stock) {
    rule(
      'held stock = units winnable (no oversell)',
      stock.held + stock.pending_payment + stock.sold === units && stock.available === stock.total - units,
      () => `expected ${units} units taken; held ${stock.held}, pending ${stock.pending_payment}, sold ${stock.sold}, available ${stock.available}`,
    );
  }
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data);
}
