// Customer steps shared by the k6 scripts (the same flows as loadtests/runner/flows.ts).
import { sleep } from 'k6';
import exec from 'k6/execution';
import { customerToken } from './auth.js';
import { createOrder, getOrder, paymentEvent, placeHold, releaseHold, sendPaymentEvent } from './api.js';
import { rule, unaccountedUnits } from './rules.js';

/**
 * @typedef {import('./config.js').Settings<keyof import('./config.js').ScenarioDefs>} AnySettings
 * @typedef {import('./config.js').FlowParams} FlowParams
 * @typedef {import('./config.js').OrderStatus} OrderStatus
 * @typedef {import('./config.js').PaymentEventType} PaymentEventType
 * @typedef {import('./api.js').OrderView} OrderView
 * @typedef {{ runId: string }} RunData
 */

/** @type {{ userId: string, token: string } | undefined} */
let identity;

/**
 * This VU's customer: its user id and bearer token (signed once per VU).
 * @param {AnySettings} cfg
 * @param {RunData} data
 */
export function customer(cfg, data) {
  if (!identity) {
    const userId = `lt-${data.runId}-u${exec.vu.idInTest}`;
    identity = { userId, token: customerToken(cfg.target.jwtSecret, userId, cfg.durationS + 3600) };
  }
  return identity;
}

/** @param {readonly [number, number]} range think time in ms */
export function think([min, max]) {
  sleep((min + Math.random() * Math.max(0, max - min)) / 1000);
}

/**
 * @param {number} min
 * @param {number} max
 */
export const randomInt = (min, max) => min + Math.floor(Math.random() * (max - min + 1));

/**
 * Reads an order back as its customer; a paid one counts its units (compared with `sold` in teardown).
 * @param {AnySettings} cfg
 * @param {string} token
 * @param {OrderView} order
 * @returns {OrderStatus | undefined}
 */
export function settleOrder(cfg, token, order) {
  const res = getOrder(cfg.target, token, order.id);
  if (res.status !== 200) return undefined;
  if (res.body.status === 'paid') unaccountedUnits.add(order.qty);
  return res.body.status;
}

/** @type {Record<PaymentEventType, readonly OrderStatus[]>} */
const AFTER = {
  'payment.succeeded': ['paid', 'refund_required'],
  'payment.failed': ['payment_failed', 'expired'],
};

/**
 * hold -> (think) -> order -> (think) -> signed payment webhook -> read the order back. Some customers
 * abandon the hold or the payment (expiry takes over), some payments fail.
 * @param {AnySettings} cfg
 * @param {RunData} data
 * @param {string} productId
 * @param {FlowParams} flow
 */
export function checkoutFlow(cfg, data, productId, flow) {
  const t = cfg.target;
  const { token } = customer(cfg, data);
  const iter = `${exec.vu.idInTest}-${exec.vu.iterationInScenario}`;
  const hold = placeHold(t, token, productId, randomInt(1, flow.qty_max), { idempotencyKey: `${data.runId}-${iter}` });
  if (hold.status !== 201) return 'no_hold';
  think(flow.think_ms);
  if (Math.random() < flow.abandon_hold_share) return 'abandoned_hold';
  const created = createOrder(t, token, hold.body.id);
  if (created.status !== 201 && created.status !== 200) return 'no_order';
  think(flow.think_ms);
  if (Math.random() < flow.abandon_payment_share) return 'abandoned_payment';
  /** @type {PaymentEventType} */
  const type = Math.random() < flow.payment_failed_share ? 'payment.failed' : 'payment.succeeded';
  const order = created.body;
  const event = paymentEvent(`evt_${data.runId}_${iter}`, type, {
    hold_id: order.hold_id,
    order_id: order.id,
    amount_minor: order.total_minor,
    currency: order.currency,
  });
  const delivered = sendPaymentEvent(t, event);
  if (delivered.status !== 200) return 'other';
  rule('a new payment event is processed (applied, or ignored when the order already ended)', delivered.body.result === 'applied' || delivered.body.result === 'ignored', () => `${event.event_id}: ${JSON.stringify(delivered.body)}`);
  const status = settleOrder(cfg, token, order);
  if (status === undefined) return 'other';
  rule('order status follows its payment', AFTER[type].includes(status), () => `${order.id}: ${type} -> ${status}`);
  return status;
}

/**
 * A customer who holds, thinks, and lets go.
 * @param {AnySettings} cfg
 * @param {RunData} data
 * @param {string} productId
 * @param {readonly [number, number]} thinkMs
 */
export function holdAndReleaseFlow(cfg, data, productId, thinkMs) {
  const { token } = customer(cfg, data);
  const hold = placeHold(cfg.target, token, productId, 1);
  if (hold.status !== 201) return;
  think(thinkMs);
  const released = releaseHold(cfg.target, token, hold.body.id);
  if (released.status !== 200) return;
  rule('a released hold is released', released.body.status === 'released' || released.body.status === 'expired', () => `${hold.body.id}: ${released.body.status}`);
}
