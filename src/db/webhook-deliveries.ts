import type { Db } from './sql.js';

export type DeliveryStatus = 'pending' | 'delivered' | 'failed';

/** A delivery with what its next attempt sends, and where. */
export interface DeliveryToSend {
  id: string;
  status: DeliveryStatus;
  attempts: number;
  round_attempts: number;
  event_id: string;
  payload: string;
  endpoint_id: string;
  url: string;
  secret: string;
  /** when its endpoint was disabled (no attempt is made then), or null */
  disabled_at: Date | null;
}

/** A delivery as the admin API lists it. */
export interface DeliveryRow {
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  status: DeliveryStatus;
  next_attempt_at: Date | null;
  created_at: Date;
}

/** A row of `webhook_attempts`. */
export interface AttemptRow {
  delivery_id: string;
  attempt: number;
  at: Date;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

/** What an attempt found, and the state the delivery moves to (`nextDelayMs` for a pending one). */
export interface AttemptOutcome extends AttemptRow {
  status: DeliveryStatus;
  round_attempts: number;
  nextDelayMs: number | null;
}

export function toSend(db: Db, id: string): Promise<DeliveryToSend | null> {
  return db<DeliveryToSend[]>`
    SELECT d.id, d.status, d.attempts, d.round_attempts, d.event_id, e.payload, d.endpoint_id, w.url, w.secret, w.disabled_at
    FROM webhook_deliveries d
    JOIN webhook_events e ON e.id = d.event_id
    JOIN webhook_endpoints w ON w.id = d.endpoint_id
    WHERE d.id = ${id}`.then(([row]) => row ?? null);
}

/**
 * Keeps the attempt and moves the delivery on, in one statement. The delivery moves only if no other
 * attempt was recorded meanwhile (false then): two workers that ran the same attempt move it once.
 */
export async function recordAttempt(db: Db, a: AttemptOutcome): Promise<boolean> {
  const rows = await db`
    WITH kept AS (
      INSERT INTO webhook_attempts (delivery_id, attempt, at, status_code, error, duration_ms)
      SELECT id, ${a.attempt}::integer, ${a.at}::timestamptz, ${a.status_code}::integer, ${a.error}::text, ${a.duration_ms}::integer FROM webhook_deliveries WHERE id = ${a.delivery_id}
    )
    UPDATE webhook_deliveries
    SET attempts = ${a.attempt}, round_attempts = ${a.round_attempts}, status = ${a.status}, updated_at = now(),
        next_attempt_at = now() + ${a.nextDelayMs}::integer * interval '1 millisecond'
    WHERE id = ${a.delivery_id} AND status = 'pending' AND attempts = ${a.attempt - 1}
    RETURNING id`;
  return rows.length > 0;
}

const LISTED = (db: Db) => db`
  SELECT d.id, d.endpoint_id, d.event_id, e.type AS event_type, d.status, d.next_attempt_at, d.created_at
  FROM webhook_deliveries d JOIN webhook_events e ON e.id = d.event_id`;

/** The endpoint's newest deliveries first. */
export function forEndpoint(db: Db, endpointId: string, limit: number): Promise<DeliveryRow[]> {
  return db<DeliveryRow[]>`${LISTED(db)} WHERE d.endpoint_id = ${endpointId} ORDER BY d.created_at DESC, d.id LIMIT ${limit}`.then((rows) => [...rows]);
}

export function find(db: Db, id: string): Promise<DeliveryRow | null> {
  return db<DeliveryRow[]>`${LISTED(db)} WHERE d.id = ${id}`.then(([row]) => row ?? null);
}

export function attempts(db: Db, deliveryIds: string[]): Promise<AttemptRow[]> {
  if (deliveryIds.length === 0) return Promise.resolve([]);
  return db<AttemptRow[]>`
    SELECT * FROM webhook_attempts WHERE delivery_id = ANY (${deliveryIds}) ORDER BY delivery_id, attempt, at`.then((rows) => [...rows]);
}

/**
 * A delivered or failed delivery starts over (the retry schedule from its beginning); the number of its
 * next attempt, or null when it is pending already (or unknown).
 */
export function restart(db: Db, id: string, firstDelayMs: number): Promise<number | null> {
  return db<{ attempts: number }[]>`
    UPDATE webhook_deliveries
    SET status = 'pending', round_attempts = 0, updated_at = now(), next_attempt_at = now() + ${firstDelayMs}::integer * interval '1 millisecond'
    WHERE id = ${id} AND status <> 'pending'
    RETURNING attempts`.then(([row]) => (row ? row.attempts + 1 : null));
}

/** Pending deliveries whose next attempt is overdue, with that attempt's number. */
export function overdue(db: Db, limit: number): Promise<{ id: string; attempt: number }[]> {
  return db<{ id: string; attempt: number }[]>`
    SELECT id, attempts + 1 AS attempt FROM webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= now()
    ORDER BY next_attempt_at LIMIT ${limit}`.then((rows) => [...rows]);
}
