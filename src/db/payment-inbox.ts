import type { PaymentEvent } from '../contract.js';
import type { Db } from './sql.js';

/** A verified delivery's event as the webhook route writes it to `payment_inbox`. */
export interface InboxWrite {
  provider: string;
  event: PaymentEvent;
  /** the delivery's body as received */
  raw: string;
  /** the signature header(s) it came with, by lowercase name */
  signatures: Record<string, string>;
}

/** An inbox row as the engine reads it back: who sent it and the engine event it carries. */
export interface InboxEntry {
  provider: string;
  event: PaymentEvent;
  result: string | null;
}

interface Row {
  provider: string;
  event_id: string;
  type: PaymentEvent['type'];
  hold_id: string;
  order_id: string | null;
  amount_minor: string;
  currency: string;
  result: string | null;
}

/** An event not known to be applied, or still deferred: the predicate of the `payment_inbox_open` index. */
const isOpen = (db: Db) => db`(result IS NULL OR result = 'deferred')`;

/** What the engine reads back of a row. */
const COLUMNS = ['provider', 'event_id', 'type', 'hold_id', 'order_id', 'amount_minor', 'currency', 'result'];

const toEntry = (r: Row): InboxEntry => ({
  provider: r.provider,
  event: {
    event_id: r.event_id,
    type: r.type,
    hold_id: r.hold_id,
    ...(r.order_id === null ? {} : { order_id: r.order_id }),
    amount_minor: Number(r.amount_minor),
    currency: r.currency,
  },
  result: r.result,
});

/**
 * Inserts the event unless its id is there already; returns the row the id stands for (this one, or
 * the one received first). Only a known id costs a second statement: a conflicting insert waits for
 * the other one to commit, so the read after it sees that row.
 */
export async function insert(db: Db, w: InboxWrite): Promise<InboxEntry> {
  const e = w.event;
  const [inserted] = await db<Row[]>`
    INSERT INTO payment_inbox (event_id, provider, type, hold_id, order_id, amount_minor, currency, raw_body, signatures)
    VALUES (${e.event_id}, ${w.provider}, ${e.type}, ${e.hold_id}, ${e.order_id ?? null}, ${e.amount_minor}, ${e.currency}, ${w.raw}, ${db.json(w.signatures)})
    ON CONFLICT (event_id) DO NOTHING
    RETURNING ${db(COLUMNS)}`;
  if (inserted) return toEntry(inserted);
  const [first] = await db<Row[]>`
    SELECT ${db(COLUMNS)} FROM payment_inbox WHERE event_id = ${e.event_id}`;
  return toEntry(first!);
}

/**
 * Where a recovery run reads open events: those received up to `until` (fixed at its first page, so a
 * run does not chase events arriving meanwhile), after the last row read (null at the start). Times are
 * as Postgres prints them, to the microsecond.
 */
export interface InboxCursor {
  until: string;
  after: { at: string; eventId: string } | null;
}

/** A page of open events, and where the next starts (null after the last). */
export interface InboxPage {
  entries: InboxEntry[];
  next: InboxCursor | null;
}

/** Where a run over the events received at least `minAgeMs` ago starts. */
export async function openSince(db: Db, minAgeMs: number): Promise<InboxCursor> {
  const [row] = await db<{ until: string }[]>`SELECT (now() - ${minAgeMs}::integer * interval '1 millisecond')::text AS until`;
  return { until: row!.until, after: null };
}

/** The page of events not known to be applied, or still deferred, at `cursor`; oldest first. */
export async function open(db: Db, cursor: InboxCursor, limit: number): Promise<InboxPage> {
  const { until, after } = cursor;
  const rows = await db<(Row & { at: string })[]>`
    SELECT ${db(COLUMNS)}, received_at::text AS at FROM payment_inbox
    WHERE ${isOpen(db)} AND received_at <= ${until}::timestamptz
      ${after ? db`AND (received_at, event_id) > (${after.at}::timestamptz, ${after.eventId})` : db``}
    ORDER BY received_at, event_id LIMIT ${limit}`;
  const last = rows.at(-1);
  return { entries: rows.map(toEntry), next: rows.length === limit && last ? { until, after: { at: last.at, eventId: last.event_id } } : null };
}

/**
 * The events not known to be applied, or still deferred, whose hold ids end in `suffix`, oldest first:
 * a rebuild applies its product's with its writes (a hold id ends in "_<product id>").
 */
export async function openEndingIn(db: Db, suffix: string): Promise<InboxEntry[]> {
  const rows = await db<Row[]>`
    SELECT ${db(COLUMNS)} FROM payment_inbox
    WHERE ${isOpen(db)} AND right(hold_id, ${suffix.length}) = ${suffix}
    ORDER BY received_at, event_id`;
  return rows.map(toEntry);
}

/** Settles an open event whose hold is gone: it cannot be applied, or it was and only its record was lost. */
export async function settle(db: Db, eventId: string, result: 'refund_required' | 'ignored' | 'applied'): Promise<void> {
  await db`
    UPDATE payment_inbox SET result = ${result}, settled_at = now()
    WHERE event_id = ${eventId} AND ${isOpen(db)}`;
}
