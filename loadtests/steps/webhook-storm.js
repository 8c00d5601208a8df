// webhook-storm: payment providers retry, duplicate and reorder. Each iteration takes a fresh order
// through one case of scenarios.json (duplicated success, failure after success, event before the
// order, ...): every event of a step `copies` times, all at once, in random order.
import { paymentEvent } from './api.js';
import { createRunProduct, customerOrder, settleOrder, shuffle } from './flows.js';
import { oneEffect, RULES } from './rules.js';

/**
 * @typedef {import('./types.js').StepContext} StepContext
 * @typedef {import('./types.js').WebhookStormDef} WebhookStormDef
 * @typedef {import('./types.js').PaymentEvent} PaymentEvent
 * @typedef {import('./types.js').OrderView} OrderView
 * @typedef {{ productId: string, unitPrice: number, currency: string, caseNames: string[] }} StormState
 */

/** Rules checked during the load. */
export const LOAD_RULES = [RULES.effect, RULES.final, RULES.conflict, RULES.converted];

/**
 * @param {import('./api.js').EngineApi} admin
 * @param {import('./types.js').RunInfo<'webhook-storm'>} run
 * @returns {Promise<StormState>}
 */
export async function setup(admin, run) {
  const product = await createRunProduct(admin, run, 'item');
  return { productId: product.id, unitPrice: product.unit_price_minor, currency: product.currency, caseNames: Object.keys(run.def.cases) };
}

/**
 * Delivers every event `copies` times, all at once, in random order; checks one effect per event.
 * @param {StepContext} ctx
 * @param {WebhookStormDef} def
 * @param {PaymentEvent[]} events
 * @param {boolean} deferrable delivered before the order exists
 * @param {string} name the case
 */
async function deliverStep(ctx, def, events, deferrable, name) {
  const deliveries = shuffle(events.flatMap((e) => Array.from({ length: def.copies }, () => e)));
  const responses = await Promise.all(deliveries.map((e) => ctx.api.sendPaymentEvent(e)));
  /** @type {Map<string, string[]>} */
  const results = new Map();
  responses.forEach((res, i) => {
    const id = deliveries[i]?.event_id ?? '?';
    const result = res.status === 200 ? (res.body.result ?? 'missing result') : `HTTP ${res.status} ${res.code ?? ''}`;
    results.set(id, [...(results.get(id) ?? []), result]);
  });
  for (const [eventId, got] of results) {
    ctx.rules.check(RULES.effect, oneEffect(got, deferrable), () => `${name} ${eventId}: ${got.join(',')}`);
  }
  for (const e of events) {
    if (e.type === 'payment.succeeded' && responses.some((res, i) => res.status === 200 && deliveries[i] === e)) ctx.orders.paymentAccepted(e.hold_id);
  }
}

/**
 * One iteration: a fresh hold (and order) taken through the case this VU and iteration stand for.
 * @param {StepContext} ctx
 * @param {WebhookStormDef} def
 * @param {StormState} s
 * @param {number} vus
 */
export async function iteration(ctx, def, s, vus) {
  const { api, vu } = ctx;
  // VUs walk the cases in lockstep offsets, so every case runs about equally often
  const name = s.caseNames[(vu.iter * vus + vu.id) % s.caseNames.length] ?? '';
  const c = def.cases[name];
  if (!c) throw new Error(`no webhook-storm case ${name}`);
  const hold = await api.placeHold(vu.token, s.productId, 1);
  if (hold.status !== 201) return;
  /** @returns {Promise<OrderView | undefined>} */
  const convert = async () => {
    const res = await api.createOrder(vu.token, hold.body.id);
    return ctx.rules.check(RULES.converted, res.status === 201 || res.status === 200, () => `${name}: ${res.status} ${res.code ?? ''}`) ? res.body : undefined;
  };
  let order = c.before_order ? undefined : await convert();
  if (!c.before_order && !order) return;

  /** @type {PaymentEvent[]} */
  let first = [];
  for (const [i, types] of c.steps.entries()) {
    const events = types.map((type, j) =>
      paymentEvent(`evt_${ctx.runId}_${vu.id}_${vu.iter}_${i}_${j}`, type, {
        hold_id: hold.body.id,
        order_id: order?.id,
        amount_minor: s.unitPrice,
        currency: s.currency,
      }),
    );
    if (i === 0) first = events;
    const deferrable = Boolean(c.before_order) && i === 0;
    await deliverStep(ctx, def, events, deferrable, name);
    if (deferrable) order = await convert();
    if (!order) return;
  }
  if (!order) return;

  const e0 = first[0];
  if (c.replay_conflict && e0) {
    const res = await api.sendPaymentEvent({ ...e0, amount_minor: e0.amount_minor + 1 }, ['422 idempotency_key_reused']);
    ctx.rules.check(RULES.conflict, res.expected, () => `${name}: ${res.status} ${res.code ?? JSON.stringify(res.body)}`);
  }
  const orderId = order.id;
  const status = await settleOrder(ctx, customerOrder(order, vu.token));
  if (status !== undefined) ctx.rules.check(RULES.final, c.final_status.includes(status), () => `${name} ${orderId}: ${status}, expected ${c.final_status.join('|')}`);
}
