import type { PaymentEvent } from '../contract.js';
import type { Db } from './sql.js';

/** A payment event as the persistence worker writes it to `payment_events`. */
export interface PaymentEventWrite {
  event_id: string;
  type: string;
  hold_id: string;
  order_id: string | null;
  amount_minor: number;
  currency: string;
  /** the event as received (JSON) */
  payload: string;
  result: string;
  received_at: Date;
}

/** An event's row: `payload` is the event as received (JSON), at `receivedAt`. */
export function eventRow(payload: string, result: string, receivedAt: Date): PaymentEventWrite {
  const e = JSON.parse(payload) as PaymentEvent;
  return {
    event_id: e.event_id,
    type: e.type,
    hold_id: e.hold_id,
    order_id: e.order_id ?? null,
    amount_minor: e.amount_minor,
    currency: e.currency,
    payload,
    result,
    received_at: receivedAt,
  };
}

/** The event's final result in Postgres (a deferred one still waits for its order), or null. */
export function settled(db: Db, eventId: string): Promise<string | null> {
  return db<{ result: string }[]>`SELECT result FROM payment_events WHERE event_id = ${eventId} AND result <> 'deferred'`.then((rows) => rows[0]?.result ?? null);
}

/**
 * Whether the hold's order is paid in Postgres and no other event is recorded as what paid it: then
 * `eventId` did, and only its own record did not reach Postgres. (Only a success pays: a failure applied
 * before a late success re-reserved the order is no payment of it.)
 */
export function paidBy(db: Db, order: { id: string; holdId: string }, eventId: string): Promise<boolean> {
  return db`
    SELECT 1 FROM orders o WHERE o.id = ${order.id} AND o.hold_id = ${order.holdId} AND o.status = 'paid'
      AND NOT EXISTS (SELECT 1 FROM payment_events e WHERE e.hold_id = o.hold_id AND e.event_id <> ${eventId} AND e.type = 'payment.succeeded' AND e.result = 'applied')`
    .then((rows) => rows.length > 0);
}

/**
 * Upserts events in one statement; only a deferred result is replaced, by a final one. The same
 * statement records the results on the events' inbox rows (by the same rule; a final result also
 * replaces refund_required, set while the event's hold was missing), so the inbox shows what was applied.
 */
export async function upsert(db: Db, rows: PaymentEventWrite[]): Promise<void> {
  await db`
    WITH events AS (
      INSERT INTO payment_events ${db(rows)}
      ON CONFLICT (event_id) DO UPDATE SET result = EXCLUDED.result, persisted_at = now()
      WHERE payment_events.result = 'deferred' AND EXCLUDED.result <> 'deferred'
    )
    UPDATE payment_inbox i SET result = r.result, settled_at = now()
    FROM unnest(${db.array(rows.map((r) => r.event_id))}::text[], ${db.array(rows.map((r) => r.result))}::text[]) AS r (event_id, result)
    WHERE i.event_id = r.event_id
      AND (i.result IS NULL OR (i.result IN ('deferred', 'refund_required') AND r.result NOT IN ('deferred', i.result)))`;
}
