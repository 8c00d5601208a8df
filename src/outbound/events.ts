import { randomBytes } from 'node:crypto';
import { HoldEventType, type Order, type OrderEvent, type OrderStatus, type OutboundEvent, type ProductSoldOutEvent } from '../contract.js';
import type { OrderMoved, OrderWrite } from '../db/orders.js';
import type { EventWrite } from '../db/webhook-events.js';
import { holdView } from '../engine/holds.js';
import { parseHold, type NoticeRecord } from '../engine/records.js';
import { formatId } from '../redis/keys.js';

/** The event an order's status names. */
const ORDER_EVENT: Record<OrderStatus, OrderEvent['type']> = {
  pending_payment: 'order.created',
  paid: 'order.paid',
  payment_failed: 'order.payment_failed',
  expired: 'order.expired',
  refund_required: 'order.refund_required',
};

/** A fresh event id: the `webhook-id` of every attempt to deliver it, so receivers can deduplicate. */
const eventId = () => `evt_${randomBytes(12).toString('hex')}`;

function event(body: OutboundEvent, subject: string): EventWrite {
  return { id: eventId(), type: body.type, subject, payload: JSON.stringify(body), occurred_at: new Date(body.timestamp) };
}

function orderView(row: OrderWrite, status: OrderStatus): Order {
  const { updated_at: _updated, ...order } = row;
  return { ...order, status, created_at: row.created_at.toISOString(), payment_due_at: row.payment_due_at.toISOString() };
}

/**
 * The events of the orders an upsert inserted or moved. An order Postgres first sees in a later status
 * (created and paid within one drain) is announced as created, then in that status; statuses it went
 * through in between are not announced, as Postgres never had them.
 */
export function orderEvents(written: OrderWrite[], moved: OrderMoved[]): EventWrite[] {
  const byId = new Map(written.map((row) => [row.id, row]));
  const events: EventWrite[] = [];
  for (const m of moved) {
    const row = byId.get(m.id)!;
    if (m.inserted) {
      const timestamp = row.created_at.toISOString();
      events.push(event({ type: 'order.created', timestamp, data: orderView(row, 'pending_payment') }, m.id));
    }
    if (m.status !== 'pending_payment') {
      const timestamp = row.updated_at.toISOString();
      events.push(event({ type: ORDER_EVENT[m.status], timestamp, data: orderView(row, m.status) }, m.id));
    }
  }
  return events;
}

/** Paid orders now cover the product's whole stock: once per product and stock (a restock can sell out again). */
export function soldOutEvent(productId: string, stock: number, sold: number, at: Date): EventWrite {
  const body: ProductSoldOutEvent = { type: 'product.sold_out', timestamp: at.toISOString(), data: { product_id: productId, stock, sold } };
  return event(body, `${productId}:${stock}`);
}

/**
 * The event of a hold or ticket notice. Its subject makes it once-only: a hold is created and ends
 * once, a customer wins or is passed over once per product, and is admitted once per admission window
 * (again, with a new window, after a postponement gave the first one back).
 */
export function noticeEvent(productId: string, n: NoticeRecord): EventWrite {
  const timestamp = new Date(n.at).toISOString();
  const customer = `${productId}:${n.rest}`;
  const hold = HoldEventType.safeParse(n.type);
  if (hold.success) {
    const view = holdView(productId, n.ref, parseHold(n.rest));
    return event({ type: hold.data, timestamp, data: view }, view.id);
  }
  switch (n.type) {
    case 'queue.admitted':
      return event({ type: n.type, timestamp, data: { product_id: productId, user_id: n.rest, admitted_until: new Date(Number(n.ref)).toISOString() } }, `${customer}:${n.ref}`);
    case 'raffle.won':
      return event({ type: n.type, timestamp, data: { product_id: productId, user_id: n.rest, hold_id: formatId('h', { productId, seq: n.ref }) } }, customer);
    case 'raffle.not_selected':
      return event({ type: n.type, timestamp, data: { product_id: productId, user_id: n.rest, position: Number(n.ref) } }, customer);
    default:
      throw new Error(`unknown notice type ${n.type}`);
  }
}
