import type { Db } from './sql.js';

/** A row of `webhook_endpoints`. */
export interface WebhookEndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  secret: string;
  created_at: Date;
  disabled_at: Date | null;
  disabled_reason: string | null;
}

export async function insert(db: Db, e: Omit<WebhookEndpointRow, 'created_at' | 'disabled_at' | 'disabled_reason'>): Promise<WebhookEndpointRow> {
  const [row] = await db<WebhookEndpointRow[]>`
    INSERT INTO webhook_endpoints (id, url, events, description, secret)
    VALUES (${e.id}, ${e.url}, ${e.events}, ${e.description}, ${e.secret})
    RETURNING *`;
  return row!;
}

export function all(db: Db): Promise<WebhookEndpointRow[]> {
  return db<WebhookEndpointRow[]>`SELECT * FROM webhook_endpoints ORDER BY created_at, id`.then((rows) => [...rows]);
}

export function find(db: Db, id: string): Promise<WebhookEndpointRow | null> {
  return db<WebhookEndpointRow[]>`SELECT * FROM webhook_endpoints WHERE id = ${id}`.then(([row]) => row ?? null);
}

/** Deletes the endpoint with its deliveries and their attempts; the endpoint, or null when there was none. */
export function remove(db: Db, id: string): Promise<WebhookEndpointRow | null> {
  return db<WebhookEndpointRow[]>`DELETE FROM webhook_endpoints WHERE id = ${id} RETURNING *`.then(([row]) => row ?? null);
}

/** Disables the endpoint (no deliveries are made for it); the endpoint, or null when there was none or it was disabled. */
export function disable(db: Db, id: string, reason: string): Promise<WebhookEndpointRow | null> {
  return db<WebhookEndpointRow[]>`
    UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = ${reason}
    WHERE id = ${id} AND disabled_at IS NULL RETURNING *`.then(([row]) => row ?? null);
}

/**
 * Disables the endpoint if its attempts have failed for `forMs`: its first attempt since its last
 * success (or ever) is that old. The endpoint, or null when it was not disabled. (It reads every
 * attempt of the endpoint: it runs when a delivery has failed for good, not per attempt.)
 */
export function disableIfFailing(db: Db, id: string, forMs: number): Promise<WebhookEndpointRow | null> {
  const reason = `every attempt failed for ${forMs / 86_400_000} days`;
  return db<WebhookEndpointRow[]>`
    WITH tried AS (
      SELECT a.at, a.status_code BETWEEN 200 AND 299 AS ok
      FROM webhook_attempts a JOIN webhook_deliveries d ON d.id = a.delivery_id
      WHERE d.endpoint_id = ${id}
    )
    UPDATE webhook_endpoints SET disabled_at = now(), disabled_reason = ${reason}
    WHERE id = ${id} AND disabled_at IS NULL
      AND (SELECT min(at) FROM tried WHERE at > coalesce((SELECT max(at) FROM tried WHERE ok), '-infinity'))
        <= now() - ${forMs}::bigint * interval '1 millisecond'
    RETURNING *`.then(([row]) => row ?? null);
}

/** Enables the endpoint again; null when there is none. */
export function enable(db: Db, id: string): Promise<WebhookEndpointRow | null> {
  return db<WebhookEndpointRow[]>`
    UPDATE webhook_endpoints SET disabled_at = NULL, disabled_reason = NULL WHERE id = ${id} RETURNING *`.then(([row]) => row ?? null);
}

/** Whether any enabled endpoint subscribes to one of the event types. */
export function subscribed(db: Db, types: readonly string[]): Promise<boolean> {
  // (as JSON: postgres.js serializes a text[] parameter only once it has fetched the array types)
  return db`
    SELECT 1 FROM webhook_endpoints
    WHERE events && ARRAY(SELECT jsonb_array_elements_text(${db.json(types as string[])})) AND disabled_at IS NULL LIMIT 1
  `.then((rows) => rows.length > 0);
}
