import type { Db } from './sql.js';

/** An outbound event as the drain writes it to `webhook_events`. */
export interface EventWrite {
  id: string;
  type: string;
  /** what it is about; (type, subject) is unique */
  subject: string;
  /** the body every delivery sends and signs */
  payload: string;
  occurred_at: Date;
}

/**
 * Inserts the events that some endpoint subscribes to, each (type, subject) once, with one pending
 * delivery per subscribed endpoint whose first attempt is due after `firstDelayMs`; events nobody
 * listens to are not kept. Returns the new deliveries' ids.
 */
export async function insertWithDeliveries(db: Db, events: EventWrite[], firstDelayMs: number): Promise<string[]> {
  if (events.length === 0) return [];
  const rows = await db<{ id: string }[]>`
    WITH candidate AS (
      SELECT * FROM jsonb_to_recordset(${db.json(events.map((e) => ({ ...e, occurred_at: e.occurred_at.toISOString() })))})
        AS e (id text, type text, subject text, payload text, occurred_at timestamptz)
    ), event AS (
      INSERT INTO webhook_events (id, type, subject, payload, occurred_at)
      SELECT c.id, c.type, c.subject, c.payload, c.occurred_at FROM candidate c
      WHERE EXISTS (SELECT 1 FROM webhook_endpoints w WHERE c.type = ANY (w.events) AND w.disabled_at IS NULL)
      ON CONFLICT (type, subject) DO NOTHING
      RETURNING id, type
    )
    INSERT INTO webhook_deliveries (id, event_id, endpoint_id, next_attempt_at)
    SELECT 'dlv_' || replace(gen_random_uuid()::text, '-', ''), event.id, w.id, now() + ${firstDelayMs}::integer * interval '1 millisecond'
    FROM event JOIN webhook_endpoints w ON event.type = ANY (w.events) AND w.disabled_at IS NULL
    RETURNING id`;
  return rows.map((r) => r.id);
}
