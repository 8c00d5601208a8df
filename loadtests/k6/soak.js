// k6: the `soak` scenario of loadtests/scenarios.json (steps in loadtests/steps/soak.js). See loadtests/README.md.
// Latency per window: requests are tagged window=warmup|first|mid|last (first = the interval after the
// warm-up one, last = the final interval). k6 cannot read the engine's memory: use the Node runner
// (`npm run loadtest -- soak --target ... --engine-pid <pid>`) or `docker stats` for that.
import exec from 'k6/execution';
import { CHECKS, staysFlat } from '../steps/rules.js';
import * as soak from '../steps/soak.js';
import { runId, settings } from './lib/config.js';
import { engine, stepContext } from './lib/runtime.js';
import { summarize } from './lib/summary.js';
import { SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/thresholds.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'soak');
const { api, admin } = engine(cfg.target);
const durationMs = cfg.durationS * 1000;
const intervalMs = soak.intervalMs(cfg.def.interval_s, durationMs);
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

/** @typedef {import('../steps/soak.js').SoakState & { runId: string, startedAt: number }} Data */

/** @returns {Promise<Data>} */
export async function setup() {
  const id = runId();
  return { ...(await soak.setup(admin, { ...cfg, runId: id })), runId: id, startedAt: Date.now() };
}

/** @param {number} elapsedMs */
function windowOf(elapsedMs) {
  if (elapsedMs < intervalMs) return 'warmup';
  if (elapsedMs < 2 * intervalMs) return 'first';
  return elapsedMs >= lastStart ? 'last' : 'mid';
}

/** @param {Data} data */
export default async function (data) {
  exec.vu.metrics.tags.window = windowOf(Date.now() - data.startedAt);
  await soak.iteration(stepContext(cfg, api, data.runId), cfg.def, data);
}

/** @param {Data} data */
export async function teardown(data) {
  await verifyProducts(admin, [data.productId]);
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
      ? { ok: false, detail: 'no data for the first or last window (run longer)' }
      : staysFlat('p99', { first, last, growthMax: pass.p99_growth_max, slack: pass.p99_slack_ms, unit: 'ms', digits: 1 });
  return summarize(cfg, data, [{ name: CHECKS.latencyFlat, ...flat }]);
}
