// The pass rules of every scenario, by name and verdict, for both runners. Their limits live in
// scenarios.json (`pass`); the Node runner reports each rule as a check, k6 as a check or a threshold.

/**
 * @typedef {import('./types.js').StockBreakdown} StockBreakdown
 * @typedef {import('./types.js').Verdict} Verdict
 * @typedef {import('./types.js').OrderStatus} OrderStatus
 * @typedef {import('./types.js').PaymentEventType} PaymentEventType
 */

/** Rules the steps check during the load, once per hold, order or event. */
export const RULES = {
  notEarly: 'no hold before the sale opens',
  closedBeforeOpening: 'before the opening holds are refused (409 sale_not_started) and all stock shows available',
  processed: 'a new payment event is processed (applied, or ignored when the order already ended)',
  status: 'order status follows its payment',
  released: 'a released hold is released',
  effect: 'one effect per event (first delivery applied/ignored/deferred, the rest duplicate)',
  final: 'final order status as expected',
  conflict: 'same event_id with another body is refused (422)',
  converted: 'the hold converts into an order',
  admittedHold: 'no hold without admission (the holder\'s ticket reads admitted or expired, never waiting or sold_out)',
  expiredRefused: 'a hold after the admission window passed is refused (403 not_admitted)',
};

/** Checks at the end of a run. */
export const CHECKS = {
  /** @param {string} productId */
  invariant: (productId) => `invariant total = available + held + pending_payment + sold (${productId})`,
  /** @param {string} productId */
  soldIsPaid: (productId) => `sold = units of paid orders (${productId})`,
  drained: 'abandoned holds and orders expire',
  latencyFlat: 'latency stays flat',
  memoryFlat: 'memory stays flat',
};

const TERMS = /** @type {const} */ (['total', 'available', 'held', 'pending_payment', 'sold']);

/**
 * Invariant 1: `total = available + held + pending_payment + sold`, every term >= 0 (so nothing is oversold).
 * @param {StockBreakdown} stock
 * @returns {Verdict}
 */
export function stockInvariant(stock) {
  const sum = stock.available + stock.held + stock.pending_payment + stock.sold;
  const negative = TERMS.filter((t) => !(Number.isFinite(stock[t]) && stock[t] >= 0));
  const ok = sum === stock.total && negative.length === 0;
  const detail = `${stock.total} = ${stock.available} + ${stock.held} + ${stock.pending_payment} + ${stock.sold}`;
  return { ok, detail: ok ? detail : `${detail} (sum ${sum}${negative.length ? `; negative/invalid: ${negative.join(', ')}` : ''})` };
}

/**
 * Units sold according to the engine equal the units of the paid orders.
 * @param {StockBreakdown} stock
 * @param {number} paidUnits
 * @param {string} counted where the paid orders were counted
 * @returns {Verdict}
 */
export function soldMatchesPaid(stock, paidUnits, counted) {
  return { ok: stock.sold === paidUnits, detail: `sold ${stock.sold}, paid orders' units ${paidUnits} (${counted})` };
}

/**
 * Stampede: the engine has taken exactly the units customers won, and not one more (no oversell).
 * @param {StockBreakdown} stock
 * @param {number} units
 * @returns {Verdict}
 */
export function unitsTaken(stock, units) {
  return {
    ok: stock.held + stock.pending_payment + stock.sold === units && stock.available === stock.total - units,
    detail: `won ${units} units; engine: held ${stock.held}, pending ${stock.pending_payment}, sold ${stock.sold}, available ${stock.available}`,
  };
}

/**
 * Statuses an order may show after a payment event was applied to it (it may have expired just before).
 * @type {Record<PaymentEventType, readonly OrderStatus[]>}
 */
export const STATUS_AFTER = {
  'payment.succeeded': ['paid', 'refund_required'],
  'payment.failed': ['payment_failed', 'expired'],
};

/**
 * Webhook storm: of all deliveries of one event, exactly one has an effect and the others are duplicates.
 * @param {string[]} results the `result` of each delivery (or `HTTP <status> <code>`)
 * @param {boolean} deferrable delivered before the order exists, so `deferred` is its effect
 */
export function oneEffect(results, deferrable) {
  const effects = results.filter((r) => r === 'applied' || r === 'ignored' || (deferrable && r === 'deferred')).length;
  const duplicates = results.filter((r) => r === 'duplicate').length;
  return effects === 1 && duplicates === results.length - 1;
}

/**
 * Soak: the last interval against the first after warm-up may grow by a factor or by a slack, whichever
 * is larger (a tiny first value would otherwise make any noise a failure).
 * @param {string} what e.g. `p99`
 * @param {{ first: number, last: number, growthMax: number, slack: number, unit: string, digits: number }} m
 * @returns {Verdict}
 */
export function staysFlat(what, { first, last, growthMax, slack, unit, digits }) {
  const limit = Math.max(first * growthMax, first + slack);
  return { ok: last <= limit, detail: `${what} ${first.toFixed(digits)} ${unit} -> ${last.toFixed(digits)} ${unit} (limit ${limit.toFixed(digits)})` };
}

/**
 * Waits until nothing is held or pending any more (every abandoned hold and order expired).
 * @param {import('./api.js').EngineApi} admin
 * @param {string[]} productIds
 * @param {number} timeoutMs
 * @param {(ms: number) => Promise<void>} sleep
 * @returns {Promise<Verdict>}
 */
export async function drained(admin, productIds, timeoutMs, sleep) {
  const started = Date.now();
  for (;;) {
    const stocks = await Promise.all(productIds.map(async (id) => (await admin.adminProduct(id)).stock));
    const held = stocks.reduce((n, s) => n + s.held, 0);
    const pending = stocks.reduce((n, s) => n + s.pending_payment, 0);
    if (held === 0 && pending === 0) return { ok: true, detail: `nothing held or pending after ${((Date.now() - started) / 1000).toFixed(1)}s` };
    if (Date.now() - started >= timeoutMs) return { ok: false, detail: `after ${timeoutMs / 1000}s still held ${held}, pending ${pending}` };
    await sleep(250);
  }
}
