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

export function exists(db: Db, eventId: string): Promise<boolean> {
  return db`SELECT 1 FROM payment_events WHERE event_id = ${eventId}`.then((rows) => rows.length > 0);
}

/** Upserts events in one statement; only a deferred result is replaced, by a final one. */
export async function upsert(db: Db, rows: PaymentEventWrite[]): Promise<void> {
  await db`
    INSERT INTO payment_events ${db(rows)}
    ON CONFLICT (event_id) DO UPDATE SET result = EXCLUDED.result, persisted_at = now()
    WHERE payment_events.result = 'deferred' AND EXCLUDED.result <> 'deferred'`;
}
