// k6: the `webhook-storm` scenario of loadtests/scenarios.json. See loadtests/README.md.
// Each iteration takes a fresh order through one case (duplicated, concurrent, reordered deliveries).
import exec from 'k6/execution';
import { callAll, createOrder, createProduct, paymentDelivery, paymentEvent, placeHold, sendPaymentEvent } from './lib/api.js';
import { runId, settings } from './lib/config.js';
import { customer, settleOrder } from './lib/flows.js';
import { rule, SUMMARY_TREND_STATS, thresholds, verificationDone, verifyProducts } from './lib/rules.js';
import { summarize } from './lib/summary.js';

const cfg = settings(JSON.parse(open('../scenarios.json')), 'webhook-storm');
const caseNames = Object.keys(cfg.def.cases);
/** the most deliveries one step sends at once */
const parallel = cfg.def.copies * Math.max(...Object.values(cfg.def.cases).flatMap((c) => c.steps.map((s) => s.length)));

/** @type {import('k6/options').Options} */
export const options = {
  scenarios: { storm: { executor: 'constant-vus', vus: cfg.vus, duration: `${cfg.durationS}s` } },
  thresholds: thresholds(cfg),
  summaryTrendStats: SUMMARY_TREND_STATS,
  batch: parallel,
  batchPerHost: parallel,
  setupTimeout: '60s',
  teardownTimeout: '60s',
};

/** @typedef {{ runId: string, productId: string, unitPrice: number, currency: string }} Data */
/** @typedef {import('./lib/api.js').PaymentEvent} PaymentEvent */
/** @typedef {import('./lib/api.js').OrderView} OrderView */

const RULES = {
  effect: 'one effect per event (first delivery applied/ignored/deferred, the rest duplicate)',
  final: 'final order status as expected',
  conflict: 'same event_id with another body is refused (422)',
  converted: 'the hold converts into an order',
};

/** @returns {Data} */
export function setup() {
  const id = runId();
  const productId = `lt-webhook-storm-item-${id}`;
  const product = createProduct(cfg.target, cfg.product, { id: productId, stock: cfg.def.stock });
  return { runId: id, productId, unitPrice: product.unit_price_minor, currency: product.currency };
}

/**
 * Every event of a step `copies` times, all at once, in random order; checks one effect per event.
 * @param {PaymentEvent[]} events
 * @param {boolean} deferrable
 * @param {string} name
 */
function deliverStep(events, deferrable, name) {
  const deliveries = events.flatMap((e) => Array.from({ length: cfg.def.copies }, () => e)).sort(() => Math.random() - 0.5);
  const responses = callAll(cfg.target, deliveries.map((e) => paymentDelivery(cfg.target, e)));
  /** @type {Record<string, string[]>} */
  const results = {};
  responses.forEach((res, i) => {
    const id = deliveries[i]?.event_id ?? '?';
    (results[id] ??= []).push(res.status === 200 ? String(res.body.result) : `HTTP ${res.status} ${res.code ?? ''}`);
  });
  for (const [eventId, got] of Object.entries(results)) {
    const effects = got.filter((r) => r === 'applied' || r === 'ignored' || (deferrable && r === 'deferred')).length;
    const duplicates = got.filter((r) => r === 'duplicate').length;
    rule(RULES.effect, effects === 1 && duplicates === got.length - 1, () => `${name} ${eventId}: ${got.join(',')}`);
  }
}

/** @param {Data} data */
export default function (data) {
  const t = cfg.target;
  const { token } = customer(cfg, data);
  const name = caseNames[(exec.vu.iterationInScenario * cfg.vus + exec.vu.idInTest) % caseNames.length] ?? '';
  const c = cfg.def.cases[name];
  if (!c) return;
  const hold = placeHold(t, token, data.productId, 1);
  if (hold.status !== 201) return;
  /** @returns {OrderView | undefined} */
  const convert = () => {
    const res = createOrder(t, token, hold.body.id);
    return rule(RULES.converted, res.status === 201 || res.status === 200, () => `${name}: ${res.status} ${res.code ?? ''}`) ? res.body : undefined;
  };
  let order = c.before_order ? undefined : convert();
  if (!c.before_order && !order) return;

  /** @type {PaymentEvent[]} */
  let first = [];
  for (const [i, types] of c.steps.entries()) {
    const events = types.map((type, j) =>
      paymentEvent(`evt_${data.runId}_${exec.vu.idInTest}_${exec.vu.iterationInScenario}_${i}_${j}`, type, {
        hold_id: hold.body.id,
        order_id: order?.id,
        amount_minor: data.unitPrice,
        currency: data.currency,
      }),
    );
    if (i === 0) first = events;
    const deferrable = Boolean(c.before_order) && i === 0;
    deliverStep(events, deferrable, name);
    if (deferrable) order = convert();
    if (!order) return;
  }
  if (!order) return;
  const e0 = first[0];
  if (c.replay_conflict && e0) {
    const res = sendPaymentEvent(t, { ...e0, amount_minor: e0.amount_minor + 1 }, ['422 idempotency_key_reused']);
    rule(RULES.conflict, res.expected, () => `${name}: ${res.status} ${res.code ?? ''}`);
  }
  const status = settleOrder(cfg, token, order);
  const orderId = order.id;
  if (status !== undefined) rule(RULES.final, c.final_status.includes(status), () => `${name} ${orderId}: ${status}, expected ${c.final_status.join('|')}`);
}

/** @param {Data} data */
export function teardown(data) {
  verifyProducts(cfg.target, [data.productId]);
  verificationDone();
}

/** @param {import('./lib/summary.js').SummaryData} data */
export function handleSummary(data) {
  return summarize(cfg, data);
}
