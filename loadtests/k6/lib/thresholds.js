// How k6 gives the verdict: the scenario's `pass` rules as thresholds, the rules the steps check as
// k6 checks (a failed one also counts in `rule_violations`), and the end-of-test stock verification
// run in teardown(). The rules themselves are loadtests/steps/rules.js.
import { check } from 'k6';
import { Counter } from 'k6/metrics';
import { EXPECT, NOT_ADMITTED, REQUEST_NAMES } from '../../steps/api.js';
import { CHECKS, stockInvariant } from '../../steps/rules.js';

/**
 * @typedef {import('../../steps/types.js').StockBreakdown} StockBreakdown
 * @typedef {import('./config.js').ScenarioDefs} ScenarioDefs
 */

/** Failed rules (each also appears as a failed check with its name). */
export const ruleViolations = new Counter('rule_violations');
/** Incremented once when teardown() finished its checks: a crashed teardown fails the run. */
export const verified = new Counter('verified');
/**
 * Units customers saw paid (added by VUs) minus units the engine reports sold (subtracted in teardown):
 * 0 when every sold unit belongs to a paid order and vice versa. One counter, because thresholds cannot
 * compare two metrics.
 */
export const unaccountedUnits = new Counter('unaccounted_units');

/**
 * A named rule: a check (listed in the summary) and, when it fails, a violation and a log line.
 * @param {string} name
 * @param {boolean} ok
 * @param {() => string} detail
 */
export function rule(name, ok, detail) {
  check(ok, { [name]: (v) => v });
  if (!ok) {
    ruleViolations.add(1, { rule: name });
    console.warn(`rule failed: ${name}: ${detail()}`);
  }
  return ok;
}

/** Where the steps report their rules. @type {import('../../steps/types.js').RuleSink} */
export const rules = { check: rule };

/**
 * What the steps tell about customers' orders: k6 VUs share no memory, so only the units seen paid
 * are kept (in `unaccounted_units`); the expiry samples are the Node runner's.
 * @type {import('../../steps/types.js').OrderLog}
 */
export const ordersSeen = {
  settled: (order, status) => {
    if (status === 'paid') unaccountedUnits.add(order.qty);
  },
  paymentAccepted: () => {},
  abandonedHold: () => {},
  abandonedOrder: () => {},
};

/** Trend statistics the summary shows. */
export const SUMMARY_TREND_STATS = ['avg', 'min', 'med', 'max', 'p(95)', 'p(99)', 'count'];

/** Thresholds only there to make k6 keep per-tag statistics for the summary (always true). */
export const DISPLAY_ONLY = ['max>=0', 'count>=0'];

const OUTCOME_KEYS = [
  ...new Set([...Object.values(EXPECT).flat(), '409 sale_not_started', NOT_ADMITTED, '422 idempotency_key_reused', '200 applied', '200 duplicate', '200 deferred', '200 ignored']),
];

/**
 * The scenario's pass rules as k6 thresholds, plus the scenario's own.
 * @param {import('./config.js').Settings<keyof ScenarioDefs>} cfg
 * @param {Record<string, string[]>} [extra]
 * @returns {Record<string, string[]>}
 */
export function thresholds(cfg, extra = {}) {
  const { pass } = cfg.def;
  /** @type {Record<string, string[]>} */
  const th = {
    'http_req_duration{phase:load}': [`p(99)<${pass.p99_ms}`],
    unexpected_responses: [`count<=${pass.max_unexpected}`],
    rule_violations: ['count==0'],
    unaccounted_units: ['count==0'],
    verified: ['count>0'],
    ...extra,
  };
  for (const name of REQUEST_NAMES) th[`http_req_duration{name:${name}}`] = [DISPLAY_ONLY[0] ?? ''];
  for (const key of OUTCOME_KEYS) th[`outcomes{outcome:${key}}`] = [DISPLAY_ONLY[1] ?? ''];
  return th;
}

/**
 * End of test (teardown): the invariant per product, and sold units against paid orders.
 * Returns the stock of each product for the scenario's own checks; call `verificationDone()` last.
 * @param {import('../../steps/api.js').EngineApi} admin
 * @param {string[]} productIds
 * @returns {Promise<StockBreakdown[]>}
 */
export async function verifyProducts(admin, productIds) {
  ruleViolations.add(0);
  const stocks = [];
  for (const id of productIds) {
    const { stock } = await admin.adminProduct(id);
    const inv = stockInvariant(stock);
    rule(CHECKS.invariant(id), inv.ok, () => inv.detail);
    unaccountedUnits.add(-stock.sold);
    console.info(`${id}: ${inv.detail}`);
    stocks.push(stock);
  }
  return stocks;
}

export function verificationDone() {
  verified.add(1);
}
