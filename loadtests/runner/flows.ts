import {
  createOrder,
  getOrder,
  paymentEvent,
  placeHold,
  releaseHold,
  sendPaymentEvent,
  type OrderView,
} from '../lib/engine-api.js';
import type { LedgerOrder } from '../lib/ledger.js';
import type { FlowParams, OrderStatus, PaymentEventType } from '../lib/scenario-config.js';
import { randomInt, think, type RunContext } from './context.js';
import type { Vu } from './vus.js';

/** Rules the flows check on every order they pay or fail. */
export const FLOW_RULES = {
  processed: 'a new payment event is processed (applied, or ignored when the order already ended)',
  status: 'order status follows its payment',
  released: 'a released hold is released',
} as const;

/** Statuses an order may show after a payment event was applied to it (it may have expired just before). */
const AFTER: Record<PaymentEventType, readonly OrderStatus[]> = {
  'payment.succeeded': ['paid', 'refund_required'],
  'payment.failed': ['payment_failed', 'expired'],
};

export type FlowOutcome = 'no_hold' | 'abandoned_hold' | 'no_order' | 'abandoned_payment' | 'paid' | 'payment_failed' | 'other';

/** Reads an order back as its customer and records what it ended as. */
export async function settleOrder(ctx: RunContext, order: LedgerOrder): Promise<OrderStatus | undefined> {
  const res = await getOrder(ctx.engine, order.token, order.id);
  if (res.status !== 200) return undefined;
  ctx.ledger.settled(order, res.body.status);
  return res.body.status;
}

export const ledgerOrder = (order: OrderView, token: string): LedgerOrder => ({
  id: order.id,
  productId: order.product_id,
  qty: order.qty,
  token,
});

/**
 * One customer's checkout: hold -> (think) -> order -> (think) -> signed payment webhook -> read the order.
 * Some customers abandon the hold or the payment (expiry takes over), some payments fail.
 */
export async function checkoutFlow(ctx: RunContext, vu: Vu, productId: string, flow: FlowParams): Promise<FlowOutcome> {
  const hold = await placeHold(ctx.engine, vu.token, productId, randomInt(1, flow.qty_max), {
    idempotencyKey: `${ctx.runId}-${vu.id}-${vu.iter}`,
  });
  if (hold.status !== 201) return 'no_hold';
  await think(ctx, flow.think_ms);
  if (Math.random() < flow.abandon_hold_share) {
    ctx.ledger.abandonedHold(hold.body.id, vu.token);
    return 'abandoned_hold';
  }
  const created = await createOrder(ctx.engine, vu.token, hold.body.id);
  if (created.status !== 201 && created.status !== 200) return 'no_order';
  const order = ledgerOrder(created.body, vu.token);
  await think(ctx, flow.think_ms);
  if (Math.random() < flow.abandon_payment_share) {
    ctx.ledger.abandonedOrder(order);
    return 'abandoned_payment';
  }
  const type: PaymentEventType = Math.random() < flow.payment_failed_share ? 'payment.failed' : 'payment.succeeded';
  const event = paymentEvent(`evt_${ctx.runId}_${vu.id}_${vu.iter}`, type, {
    hold_id: created.body.hold_id,
    order_id: created.body.id,
    amount_minor: created.body.total_minor,
    currency: created.body.currency,
  });
  const delivered = await sendPaymentEvent(ctx.engine, event);
  if (delivered.status !== 200) return 'other';
  ctx.rules.check(FLOW_RULES.processed, delivered.body.result === 'applied' || delivered.body.result === 'ignored', () => `${event.event_id}: ${JSON.stringify(delivered.body)}`);
  const status = await settleOrder(ctx, order);
  if (status === undefined) return 'other';
  ctx.rules.check(FLOW_RULES.status, AFTER[type].includes(status), () => `${order.id}: ${type} -> ${status}`);
  return status === 'paid' || status === 'payment_failed' ? status : 'other';
}

/** A customer who holds, thinks, and lets go. */
export async function holdAndReleaseFlow(ctx: RunContext, vu: Vu, productId: string, thinkMs: readonly [number, number]): Promise<void> {
  const hold = await placeHold(ctx.engine, vu.token, productId, 1);
  if (hold.status !== 201) return;
  await think(ctx, thinkMs);
  const released = await releaseHold(ctx.engine, vu.token, hold.body.id);
  if (released.status !== 200) return;
  // the hold may have expired during a long think time
  ctx.rules.check(FLOW_RULES.released, ['released', 'expired'].includes(released.body.status), () => `${hold.body.id}: ${released.body.status}`);
}
