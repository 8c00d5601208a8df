// k6: the `soak` scenario of loadtests/scenarios.json. See loadtests/README.md.
// Latency per window: requests are tagged window=warmup|first|mid|last (first = the interval after the
// warm-up one, last = the final interval). k6 cannot read the engine's memory: use the Node runner
// (`npm run loadtest -- soak --target ... --engine-pid <pid>`) or `docker stats` for that.
import exec from 'k6/execution';
import { createProduct, getProduct } from './lib/api.js';
import { runId, settings } from './lib/config.js';
import { checkoutFlow, holdAndReleaseFlow, think } from './lib/flows.js';
import { SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/rules.js';
import { summarize } from './lib/summary.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'soak');
const durationMs = cfg.durationS * 1000;
/** at least five intervals per run, like the Node runner */
const intervalMs = Math.min(cfg.def.interval_s * 1000, Math.max(1000, Math.floor(durationMs / 5)));
const lastStart = (Math.floor(durationMs / intervalMs) - 1) * intervalMs;

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { soak: { executor: 'constant-vus', vus: cfg.vus, duration: `${cfg.durationS}s` } },
  thresholds: thresholds(cfg, {
    'http_req_duration{window:first}': [`p(99)<${cfg.def.pass.p99_ms}`],
    'http_req_duration{window:last}': [`p(99)<${cfg.def.pass.p99_ms}`],
  }),
  summaryTrendStats: SUMMARY_TREND_STATS,
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

/** @typedef {{ runId: string, productId: string, startedAt: number }} Data */

/** @returns {Data} */
export function setup() {
  const id = runId();
  const productId = `lt-soak-item-${id}`;
  createProduct(cfg.target, cfg.product, { id: productId, stock: cfg.def.stock });
  return { runId: id, productId, startedAt: Date.now() };
}

/** @param {number} elapsedMs */
function windowOf(elapsedMs) {
  if (elapsedMs < intervalMs) return 'warmup';
  if (elapsedMs < 2 * intervalMs) return 'first';
  return elapsedMs >= lastStart ? 'last' : 'mid';
}

/** @param {Data} data */
export default function (data) {
  exec.vu.metrics.tags.window = windowOf(Date.now() - data.startedAt);
  const mix = cfg.def.mix;
  const r = Math.random() * (mix.browse + mix.checkout + mix.hold_release);
  if (r < mix.browse) getProduct(cfg.target, data.productId);
  else if (r < mix.browse + mix.checkout) checkoutFlow(cfg, data, data.productId, cfg.def.flow);
  else holdAndReleaseFlow(cfg, data, data.productId, cfg.def.flow.think_ms);
  think(cfg.def.think_ms);
}

/** @param {Data} data */
export function teardown(data) {
  verifyProducts(cfg.target, [data.productId]);
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  const p99 = (/** @type {string} */ w) => data.metrics[`http_req_duration{window:${w}}`]?.values['p(99)'];
  const first = p99('first');
  const last = p99('last');
  const { pass } = cfg.def;
  const flat =
    first === undefined || last === undefined
      ? { name: 'latency stays flat', ok: false, detail: 'no data for the first or last window (run longer)' }
      : (() => {
          const limit = Math.max(first * pass.p99_growth_max, first + pass.p99_slack_ms);
          return { name: 'latency stays flat', ok: last <= limit, detail: `p99 ${first.toFixed(1)} ms -> ${last.toFixed(1)} ms (limit ${limit.toFixed(1)})` };
        })();
  return summarize(cfg, data, [flat]);
}
