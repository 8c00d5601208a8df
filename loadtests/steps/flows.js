// Customer flows shared by the scenarios: a checkout (hold -> order -> payment webhook -> read back),
// a try for a hold when a sale opens, and a hold that is let go, each checking its rules as it goes.
import { EXPECT, paymentEvent } from './api.js';
import { RULES, STATUS_AFTER } from './rules.js';

/**
 * @typedef {import('./types.js').StepContext} StepContext
 * @typedef {import('./types.js').FlowParams} FlowParams
 * @typedef {import('./types.js').OrderStatus} OrderStatus
 * @typedef {import('./types.js').OrderView} OrderView
 * @typedef {import('./types.js').HoldView} HoldView
 * @typedef {import('./types.js').CustomerOrder} CustomerOrder
 * @typedef {import('./types.js').PaymentEventType} PaymentEventType
 * @typedef {'no_hold' | 'abandoned_hold' | 'no_order' | 'abandoned_payment' | 'paid' | 'payment_failed' | 'other'} FlowOutcome
 */

/**
 * @param {number} min
 * @param {number} max
 */
export const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));

/**
 * A think time drawn from `[min, max]` ms.
 * @param {StepContext} ctx
 * @param {readonly [number, number]} range
 */
export function think(ctx, [min, max]) {
  return ctx.sleep(min + Math.random() * Math.max(0, max - min));
}

/**
 * Fisher-Yates, in place.
 * @template T
 * @param {T[]} items
 * @returns {T[]}
 */
export function shuffle(items) {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    const t = /** @type {T} */ (items[i]);
    items[i] = /** @type {T} */ (items[j]);
    items[j] = t;
  }
  return items;
}

/**
 * Creates the run's product for a scenario; its id is unique per run and tells what created it.
 * @param {import('./api.js').EngineApi} admin
 * @param {import('./types.js').RunInfo<import('./types.js').ScenarioName>} run
 * @param {string} label
 * @param {import('./types.js').ProductExtras} [extra]
 */
export function createRunProduct(admin, run, label, extra = {}) {
  return admin.createProduct(run.product, { id: `lt-${run.name}-${label}-${run.runId}`, stock: run.def.stock, ...extra });
}

/**
 * @param {OrderView} order
 * @param {string} token
 * @returns {CustomerOrder}
 */
export const customerOrder = (order, token) => ({ id: order.id, productId: order.product_id, qty: order.qty, token });

/**
 * Reads an order back as its customer and logs what it ended as.
 * @param {StepContext} ctx
 * @param {CustomerOrder} order
 * @returns {Promise<OrderStatus | undefined>}
 */
export async function settleOrder(ctx, order) {
  const res = await ctx.api.getOrder(order.token, order.id);
  if (res.status !== 200) return undefined;
  ctx.orders.settled(order, res.body.status);
  return res.body.status;
}

/**
 * One customer's checkout: hold -> (think) -> order -> (think) -> signed payment webhook -> read the order.
 * Some customers abandon the hold or the payment (expiry takes over), some payments fail.
 * @param {StepContext} ctx
 * @param {string} productId
 * @param {FlowParams} flow
 * @returns {Promise<FlowOutcome>}
 */
export async function checkoutFlow(ctx, productId, flow) {
  const { api, vu } = ctx;
  const hold = await api.placeHold(vu.token, productId, randomInt(1, flow.qty_max), { idempotencyKey: `${ctx.runId}-${vu.id}-${vu.iter}` });
  if (hold.status !== 201) return 'no_hold';
  return checkOut(ctx, hold.body, flow);
}

/**
 * The rest of a checkout once the customer has a hold: (think) -> order -> (think) -> payment -> read the order.
 * @param {StepContext} ctx
 * @param {HoldView} hold
 * @param {import('./types.js').CheckOutParams} flow
 * @returns {Promise<FlowOutcome>}
 */
export async function checkOut(ctx, hold, flow) {
  const { api, vu } = ctx;
  await think(ctx, flow.think_ms);
  if (Math.random() < flow.abandon_hold_share) {
    ctx.orders.abandonedHold(hold.id, vu.token);
    return 'abandoned_hold';
  }
  const created = await api.createOrder(vu.token, hold.id);
  if (created.status !== 201 && created.status !== 200) return 'no_order';
  const order = customerOrder(created.body, vu.token);
  await think(ctx, flow.think_ms);
  if (Math.random() < flow.abandon_payment_share) {
    ctx.orders.abandonedOrder(order);
    return 'abandoned_payment';
  }
  /** @type {PaymentEventType} */
  const type = Math.random() < flow.payment_failed_share ? 'payment.failed' : 'payment.succeeded';
  const event = paymentEvent(`evt_${ctx.runId}_${vu.id}_${vu.iter}`, type, {
    hold_id: created.body.hold_id,
    order_id: created.body.id,
    amount_minor: created.body.total_minor,
    currency: created.body.currency,
  });
  const delivered = await api.sendPaymentEvent(event);
  if (delivered.status !== 200) return 'other';
  if (type === 'payment.succeeded') ctx.orders.paymentAccepted(event.hold_id);
  ctx.rules.check(RULES.processed, delivered.body.result === 'applied' || delivered.body.result === 'ignored', () => `${event.event_id}: ${JSON.stringify(delivered.body)}`);
  const status = await settleOrder(ctx, order);
  if (status === undefined) return 'other';
  ctx.rules.check(RULES.status, STATUS_AFTER[type].includes(status), () => `${order.id}: ${type} -> ${status}`);
  return status === 'paid' || status === 'payment_failed' ? status : 'other';
}

/**
 * The Idempotency-Key of a customer's tries for the one hold it wants when a sale opens.
 * @param {StepContext} ctx
 */
export const holdKey = (ctx) => `${ctx.runId}-${ctx.vu.id}`;

/**
 * One try for a hold on a product whose sale opens at `opensAt` (ms since the epoch): a hold dated
 * before the opening breaks the rule; after an answer that is not final (`409 sale_not_started`) it
 * says `retry` with how long to wait first: `retryMs` (or what Retry-After says) with jitter.
 * @param {StepContext} ctx
 * @param {{ productId: string, qty: number, opensAt: number, retryMs: number }} sale
 * @returns {Promise<{ outcome: 'won', hold: HoldView } | { outcome: 'sold_out' } | { outcome: 'retry', waitMs: number }>}
 */
export async function tryHold(ctx, { productId, qty, opensAt, retryMs }) {
  const res = await ctx.api.placeHold(ctx.vu.token, productId, qty, {
    idempotencyKey: holdKey(ctx),
    expect: [...EXPECT.hold, '409 sale_not_started'],
  });
  if (res.status === 201) {
    ctx.rules.check(RULES.notEarly, Date.parse(res.body.created_at) >= opensAt, () => `${res.body.id} created ${res.body.created_at}`);
    return { outcome: 'won', hold: res.body };
  }
  if (res.code === 'insufficient_stock') return { outcome: 'sold_out' };
  const retryAfterS = Number(res.headers['retry-after']);
  const base = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : retryMs;
  return { outcome: 'retry', waitMs: base * (0.5 + Math.random()) };
}

/**
 * `tryHold`, waiting before a `retry` is said.
 * @param {StepContext} ctx
 * @param {{ productId: string, qty: number, opensAt: number, retryMs: number }} sale
 */
export async function holdOnOpening(ctx, sale) {
  const tried = await tryHold(ctx, sale);
  if (tried.outcome === 'retry') await ctx.sleep(tried.waitMs);
  return tried;
}

/**
 * A customer who holds, thinks, and lets go.
 * @param {StepContext} ctx
 * @param {string} productId
 * @param {readonly [number, number]} thinkMs
 */
export async function holdAndReleaseFlow(ctx, productId, thinkMs) {
  const hold = await ctx.api.placeHold(ctx.vu.token, productId, 1);
  if (hold.status !== 201) return;
  await think(ctx, thinkMs);
  const released = await ctx.api.releaseHold(ctx.vu.token, hold.body.id);
  if (released.status !== 200) return;
  // the hold may have expired during a long think time
  ctx.rules.check(RULES.released, released.body.status === 'released' || released.body.status === 'expired', () => `${hold.body.id}: ${released.body.status}`);
}
