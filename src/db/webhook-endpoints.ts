import type { Db } from './sql.js';

/** A row of `webhook_endpoints`. */
export interface WebhookEndpointRow {
  id: string;
  url: string;
  events: string[];
  description: string | null;
  secret: string;
  created_at: Date;
}

export async function insert(db: Db, e: Omit<WebhookEndpointRow, 'created_at'>): Promise<WebhookEndpointRow> {
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

/** Deletes the endpoint with its deliveries and their attempts; false when there was none. */
export function remove(db: Db, id: string): Promise<boolean> {
  return db`DELETE FROM webhook_endpoints WHERE id = ${id}`.then((r) => r.count > 0);
}

/** Whether any endpoint subscribes to one of the event types. */
export function subscribed(db: Db, types: readonly string[]): Promise<boolean> {
  // (as JSON: postgres.js serializes a text[] parameter only once it has fetched the array types)
  return db`
    SELECT 1 FROM webhook_endpoints WHERE events && ARRAY(SELECT jsonb_array_elements_text(${db.json(types as string[])})) LIMIT 1
  `.then((rows) => rows.length > 0);
}
