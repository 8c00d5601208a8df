import { z } from 'zod';
import { ErrorCode } from './errors.js';
import { PRODUCT_ID_PATTERN } from './redis/keys.js';

/**
 * The API's contract: every request and response body, as zod schemas and the types inferred from
 * them. Routes validate requests with these, the engine returns these types, and tests parse responses
 * with them. Each named schema carries an `id`, so an OpenAPI document can be generated from them.
 * Requests refuse unknown fields; responses are strict too, so a test that parses one also proves that
 * nothing unexpected leaks out.
 */

// ---- shared fields ----

const isoTime = z.iso.datetime({ offset: true });
/**
 * A time an operator sets (sale window, raffle close): one Postgres can store, years 1 to 9999 in UTC
 * ("0001-01-01T00:00:00+14:00" is RFC 3339, and in year 0).
 */
const [FIRST_TIME, LAST_TIME] = [Date.parse('0001-01-01T00:00:00Z'), Date.parse('9999-12-31T23:59:59.999Z')];
const storedTime = isoTime.refine((s) => Date.parse(s) >= FIRST_TIME && Date.parse(s) <= LAST_TIME, 'must lie in years 1 to 9999 (UTC)');
/**
 * Prices stay below 1e9 minor units, so an order total (qty <= 100) stays below 1e11: the Lua scripts
 * print numbers with 14 significant digits, and larger ones would lose digits there.
 */
const price = z.number().int().min(0).max(1_000_000_000);
const amount = z.number().int().min(0).max(100_000_000_000);
const productId = z.string().regex(PRODUCT_ID_PATTERN, 'must be 1-64 letters, digits, _ or -');
const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like EUR');
const qty = z.number().int().min(1).max(100);
const recordId = z.string().min(1).max(100);
/** Text Postgres can store: it cannot hold NUL. */
const noNul = <T extends z.ZodString | z.ZodURL>(schema: T) => schema.regex(/^[^\u0000]*$/, 'must not contain NUL');
const name = noNul(z.string().trim().min(1).max(200));
const stock = z.number().int().min(0).max(1_000_000_000);
const perUserLimit = z.number().int().min(1).max(1_000_000).nullable();
const units = z.number().int().min(0);

// ---- enums ----

export const HoldStatus = z.enum(['active', 'converted', 'released', 'expired']).meta({ id: 'HoldStatus' });
export type HoldStatus = z.infer<typeof HoldStatus>;

export const OrderStatus = z
  .enum(['pending_payment', 'paid', 'payment_failed', 'expired', 'refund_required'])
  .meta({ id: 'OrderStatus' });
export type OrderStatus = z.infer<typeof OrderStatus>;

export const PaymentEventType = z.enum(['payment.succeeded', 'payment.failed']).meta({ id: 'PaymentEventType' });
export type PaymentEventType = z.infer<typeof PaymentEventType>;

/** What a payment event did; `amount_mismatch` is only recorded (the webhook answers 422). */
export const PaymentResult = z
  .enum(['applied', 'duplicate', 'deferred', 'ignored', 'amount_mismatch'])
  .meta({ id: 'PaymentResult' });
export type PaymentResult = z.infer<typeof PaymentResult>;

/** How a product admits buyers: first come (`open`), a waiting room (`queue`) or a raffle (docs/fair-drops.md). */
export const Admission = z.enum(['open', 'queue', 'raffle']).meta({ id: 'Admission' });
export type Admission = z.infer<typeof Admission>;

// ---- requests ----

export const CreateHoldBody = z.strictObject({ product_id: productId, qty }).meta({ id: 'CreateHoldBody' });
export type CreateHoldBody = z.infer<typeof CreateHoldBody>;

const saleWindow = {
  sale_starts_at: storedTime.nullable().optional(),
  sale_ends_at: storedTime.nullable().optional(),
};
const windowIsOrdered = (p: { sale_starts_at?: string | null; sale_ends_at?: string | null }) =>
  !p.sale_starts_at || !p.sale_ends_at || Date.parse(p.sale_ends_at) > Date.parse(p.sale_starts_at);
const windowMessage = { message: 'sale_ends_at must be after sale_starts_at', path: ['sale_ends_at'] };
const admissionWindowS = z.number().int().min(5).max(24 * 3600);
const admissionHeadroom = z.number().int().min(0).max(1_000_000);
const admission = {
  admission: Admission.optional(),
  /** how long an admitted customer has to place a hold (default 120) */
  admission_window_s: admissionWindowS.optional(),
  /** admitted-but-unused tickets may exceed the units left by this many (default 0) */
  admission_headroom: admissionHeadroom.optional(),
  /** a raffle takes entries until then (required for `raffle`) */
  raffle_closes_at: storedTime.nullable().optional(),
};

export const CreateProductBody = z
  .strictObject({
    id: productId.optional(),
    name,
    unit_price_minor: price,
    currency,
    stock,
    ...saleWindow,
    per_user_limit: perUserLimit.optional(),
    ...admission,
  })
  .refine(windowIsOrdered, windowMessage)
  .refine((p) => p.admission !== 'raffle' || !!p.raffle_closes_at, { message: 'a raffle needs raffle_closes_at', path: ['raffle_closes_at'] })
  .meta({ id: 'CreateProductBody' });
export type CreateProductBody = z.infer<typeof CreateProductBody>;

/** Restock, window, limit or price; the currency and id never change. */
export const PatchProductBody = z
  .strictObject({
    name: name.optional(),
    unit_price_minor: price.optional(),
    stock: stock.optional(),
    ...saleWindow,
    per_user_limit: perUserLimit.optional(),
    ...admission,
  })
  .refine(windowIsOrdered, windowMessage)
  .meta({ id: 'PatchProductBody' });
export type PatchProductBody = z.infer<typeof PatchProductBody>;

export const CreateOrderBody = z.strictObject({ hold_id: recordId }).meta({ id: 'CreateOrderBody' });
export type CreateOrderBody = z.infer<typeof CreateOrderBody>;

/** The body of a payment provider's webhook. */
export const PaymentEvent = z
  .strictObject({
    event_id: z.string().regex(/^[\x20-\x7e]{1,255}$/, 'must be 1-255 printable characters'),
    type: PaymentEventType,
    hold_id: recordId,
    order_id: recordId.optional(),
    amount_minor: amount,
    currency,
  })
  .meta({ id: 'PaymentEvent' });
export type PaymentEvent = z.infer<typeof PaymentEvent>;

// ---- responses ----

export const Product = z
  .strictObject({
    id: productId,
    name: z.string(),
    unit_price_minor: price,
    currency,
    available: units,
    sale_starts_at: isoTime.nullable(),
    sale_ends_at: isoTime.nullable(),
    per_user_limit: perUserLimit,
    // only on a product sold through a waiting room or raffle: an open product's view is as it always was
    admission: Admission.exclude(['open']).optional(),
    admission_window_s: admissionWindowS.optional(),
    raffle_closes_at: isoTime.nullable().optional(),
  })
  .meta({ id: 'Product' });
export type Product = z.infer<typeof Product>;

/** Per product, `total = available + held + pending_payment + sold`. */
export const Stock = z
  .strictObject({ total: units, available: units, held: units, pending_payment: units, sold: units })
  .meta({ id: 'Stock' });
export type Stock = z.infer<typeof Stock>;

/** A waiting room's or raffle's state for operators (absent for an `open` product). */
export const AdmissionStats = z
  .strictObject({
    /** tickets waiting (before the opening: the pre-queue) */
    queue_length: units,
    /** admitted tickets with no hold yet, window open */
    admitted: units,
    admitted_total: units,
    /** admissions per second, a moving average over about 30 s */
    admission_rate_per_s: z.number().min(0),
    /** when the last waiting ticket would be admitted at that rate (null: no rate yet, or nobody waiting) */
    tail_eta_s: units.nullable(),
    sold_out: z.boolean(),
    raffle_entries: units,
    /** winners of the draw itself (null before it) */
    raffle_winners: units.nullable(),
  })
  .meta({ id: 'AdmissionStats' });
export type AdmissionStats = z.infer<typeof AdmissionStats>;

export const AdminProduct = Product.extend({ stock: Stock, admission_headroom: admissionHeadroom.optional(), admission_stats: AdmissionStats.optional() }).meta({
  id: 'AdminProduct',
});
export type AdminProduct = z.infer<typeof AdminProduct>;

/** What a hold and the order made from it both carry: whose units of which product. */
const claim = { product_id: productId, user_id: z.string(), qty };

/** Ids are `h_<seq>_<productId>`: they carry the product, so any id leads to its Redis slot. */
export const Hold = z
  .strictObject({
    id: recordId,
    ...claim,
    status: HoldStatus,
    created_at: isoTime,
    expires_at: isoTime,
  })
  .meta({ id: 'Hold' });
export type Hold = z.infer<typeof Hold>;

/** Ids are `o_<seq>_<productId>`, the seq of the hold it was made from. */
export const Order = z
  .strictObject({
    id: recordId,
    hold_id: recordId,
    ...claim,
    unit_price_minor: price,
    total_minor: amount,
    currency,
    status: OrderStatus,
    created_at: isoTime,
    payment_due_at: isoTime,
  })
  .meta({ id: 'Order' });
export type Order = z.infer<typeof Order>;

/** The webhook's answer: the order and its status after the event (null while the order does not exist). */
export const PaymentOutcome = z
  .strictObject({ result: PaymentResult, order_id: recordId.nullable(), order_status: OrderStatus.nullable() })
  .meta({ id: 'PaymentOutcome' });
export type PaymentOutcome = z.infer<typeof PaymentOutcome>;

/** The webhook's answer to a provider's event that changes nothing: another business's payment, an event type not used, the other mode. */
export const WebhookIgnored = z.strictObject({ result: z.literal('ignored'), reason: z.string() }).meta({ id: 'WebhookIgnored' });
export type WebhookIgnored = z.infer<typeof WebhookIgnored>;

/** The webhook's JSON answer: what the event did to the order, or why it changed nothing. */
export const WebhookAnswer = z.union([PaymentOutcome, WebhookIgnored]).meta({ id: 'WebhookAnswer' });
export type WebhookAnswer = z.infer<typeof WebhookAnswer>;

/** Counters may be anything here: a report about drift has to be able to show a broken one. */
const count = z.number().int();

export const ProductReconciliation = z
  .strictObject({
    product_id: productId,
    redis: z.strictObject({ total: count, available: count, held: count, pending: count, sold: count }),
    redis_records: z.strictObject({ held: count, pending: count, paid: count }),
    postgres: z.strictObject({ pending: count, sold: count, total: count }),
    /** orders and events whose latest state is not yet in Postgres (being written) */
    unpersisted: count,
    /** order records whose id Postgres has for another order (kept in order_conflicts, never merged) */
    conflicts: count,
    drift: z.array(z.string()),
    repaired: z.array(z.string()),
    /** needs a human: more held, pending or sold than the stock Redis or Postgres has, or Postgres knows sales Redis does not */
    oversell_risk: z.boolean(),
  })
  .meta({ id: 'ProductReconciliation' });
export type ProductReconciliation = z.infer<typeof ProductReconciliation>;

export const ReconcileReport = z
  .strictObject({ products: z.array(ProductReconciliation), oversell_risk: z.boolean() })
  .meta({ id: 'ReconcileReport' });
export type ReconcileReport = z.infer<typeof ReconcileReport>;

/** What one run of the payments inbox recovery found and did. */
export const InboxRecovery = z
  .strictObject({
    /** inbox events not yet known to be applied (or still deferred) that were looked at */
    checked: count,
    /** applied in Redis by this run: Redis did not know them */
    reapplied: count,
    /** successes whose hold neither Redis nor Postgres knows: marked refund_required in the inbox */
    refund_required: count,
    /** refused for another reason or failed; still open, logged, tried again on the next run */
    unresolved: count,
  })
  .meta({ id: 'InboxRecovery' });
export type InboxRecovery = z.infer<typeof InboxRecovery>;

/** What a recovery did to one product. */
export const ProductRecovery = z
  .strictObject({
    product_id: productId,
    /** rebuilt from Postgres: Redis had no record of it or was behind (or the rebuild was forced) */
    rebuilt: z.boolean(),
    /** why it was rebuilt; or, not rebuilt, why a rebuild it needed did not happen (it stays unchecked, its requests try again) */
    reason: z.string().nullable(),
    /** pending orders written back to Redis (they can still be paid, or expire) */
    pending_orders: count,
  })
  .meta({ id: 'ProductRecovery' });
export type ProductRecovery = z.infer<typeof ProductRecovery>;

/** What one recovery run found and did. */
export const RecoveryReport = z
  .strictObject({ products: z.array(ProductRecovery), payments: InboxRecovery, took_ms: count })
  .meta({ id: 'RecoveryReport' });
export type RecoveryReport = z.infer<typeof RecoveryReport>;

/** The reconcile operation's query: anything but these refuses, rather than repairing when asked for a report. */
export const ReconcileQuery = z.object({ dry_run: z.enum(['true', 'false']).optional().meta({ description: '`true`: report only' }) });
export type ReconcileQuery = z.infer<typeof ReconcileQuery>;

export const RecoverBody = z
  .strictObject({
    /** rebuild every product from Postgres even if Redis does not look behind (its live holds are dropped) */
    force: z.boolean().optional(),
  })
  .meta({ id: 'RecoverBody' });
export type RecoverBody = z.infer<typeof RecoverBody>;

export const HealthLive = z
  .strictObject({
    status: z.literal('ok'),
    /** the process that answered: with several API processes (API_PROCESSES), which one this connection reached */
    pid: z.number().int().positive(),
  })
  .meta({ id: 'HealthLive' });
export type HealthLive = z.infer<typeof HealthLive>;

/** Each check is `ok` or what went wrong. */
export const HealthReady = z
  .strictObject({
    status: z.enum(['ok', 'unavailable']),
    checks: z.strictObject({ redis: z.string(), postgres: z.string(), queues: z.string() }),
  })
  .meta({ id: 'HealthReady' });
export type HealthReady = z.infer<typeof HealthReady>;

/** One schema violation of an invalid_request problem (`path` joined with dots, empty for the body). */
export const FieldError = z.strictObject({ path: z.string(), message: z.string() }).meta({ id: 'FieldError' });
export type FieldError = z.infer<typeof FieldError>;

/** Every error answer: RFC 9457 problem+json with a stable `code`, plus the extras some codes carry. */
export const Problem = z
  .strictObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int().min(400).max(599),
    detail: z.string(),
    code: ErrorCode.meta({ id: 'ErrorCode' }),
    /** the request id, on 5xx answers */
    instance: z.string().optional(),
    /** invalid_request */
    errors: z.array(FieldError).optional(),
    /** insufficient_stock */
    available: units.optional(),
    /** per_user_limit_exceeded */
    limit: units.optional(),
    used: units.optional(),
    /** stock_below_committed: units held, pending payment or sold */
    committed: units.optional(),
    /** amount_mismatch: what the order costs */
    expected_amount_minor: amount.optional(),
    expected_currency: currency.optional(),
    /** rate_limited, as in the Retry-After header */
    retry_after_s: units.optional(),
    /** not_admitted: the customer's place in the waiting room (null: no ticket, or in the pre-queue) */
    position: z.number().int().min(1).nullable().optional(),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

// ---- outbound events (Standard Webhooks) ----

const ORDER_EVENT_TYPES = ['order.created', 'order.paid', 'order.payment_failed', 'order.expired', 'order.refund_required'] as const;
const HOLD_EVENT_TYPES = ['hold.created', 'hold.released', 'hold.expired', 'hold.converted'] as const;
const OUTBOUND_EVENT_TYPES = [...ORDER_EVENT_TYPES, 'product.sold_out', ...HOLD_EVENT_TYPES, 'queue.admitted', 'raffle.won', 'raffle.not_selected'] as const;

/**
 * What an endpoint can subscribe to. Hold events are written only while some endpoint subscribes to
 * one of them: there is one per hold, created, and one per hold, ended.
 */
export const OutboundEventType = z
  .enum(OUTBOUND_EVENT_TYPES, { error: `must be one of ${OUTBOUND_EVENT_TYPES.join(', ')}` })
  .meta({ id: 'OutboundEventType' });
export type OutboundEventType = z.infer<typeof OutboundEventType>;
export const HoldEventType = z.enum(HOLD_EVENT_TYPES);
export type HoldEventType = z.infer<typeof HoldEventType>;

/** Ids as the engine hands them out: anything else names no endpoint or delivery. */
export const WebhookEndpointId = z.string().regex(/^ep_[0-9a-f]{24}$/);
export const WebhookDeliveryId = z.string().regex(/^dlv_[0-9a-f]{32}$/);
/** Whether a URL's user and password decode (sent decoded, as HTTP Basic credentials: src/outbound/send.ts). */
function credentialsDecode(url: string): boolean {
  try {
    const u = new URL(url);
    decodeURIComponent(u.username);
    decodeURIComponent(u.password);
  } catch (err) {
    // (not a URL: the url check says so)
    return !(err instanceof URIError);
  }
  return true;
}
const webhookUrl = noNul(z.url({ protocol: /^https?$/, hostname: z.regexes.hostname, error: 'must be an http(s) URL' }).max(2000))
  .refine(credentialsDecode, 'user and password must be valid percent-encoding');

export const CreateWebhookEndpointBody = z
  .strictObject({
    url: webhookUrl,
    events: z
      .array(OutboundEventType)
      .min(1)
      .refine((events) => new Set(events).size === events.length, 'lists an event twice'),
    description: noNul(z.string().trim().min(1).max(500)).optional(),
  })
  .meta({ id: 'CreateWebhookEndpointBody' });
export type CreateWebhookEndpointBody = z.infer<typeof CreateWebhookEndpointBody>;

/** An endpoint as the admin API shows it after its creation: never with its secret. */
export const WebhookEndpoint = z
  .strictObject({
    id: WebhookEndpointId,
    url: webhookUrl,
    events: z.array(OutboundEventType),
    description: z.string().nullable(),
    created_at: isoTime,
    /** when deliveries to it stopped (its receiver answered 410 Gone, or every attempt failed for 5 days), until it is enabled again */
    disabled_at: isoTime.nullable(),
    disabled_reason: z.string().nullable(),
  })
  .meta({ id: 'WebhookEndpoint' });
export type WebhookEndpoint = z.infer<typeof WebhookEndpoint>;

/** The answer to the creation, the only one that carries the signing secret (`whsec_` + base64). */
export const CreatedWebhookEndpoint = WebhookEndpoint.extend({ secret: z.string().regex(/^whsec_[A-Za-z0-9+/]{32}$/) }).meta({
  id: 'CreatedWebhookEndpoint',
});
export type CreatedWebhookEndpoint = z.infer<typeof CreatedWebhookEndpoint>;

export const WebhookEndpointList = z.strictObject({ endpoints: z.array(WebhookEndpoint) }).meta({ id: 'WebhookEndpointList' });
export type WebhookEndpointList = z.infer<typeof WebhookEndpointList>;

/** One attempt to deliver an event: the receiver's status code, or why there was none. */
export const WebhookAttempt = z
  .strictObject({
    attempt: z.number().int().min(1),
    at: isoTime,
    status_code: z.number().int().nullable(),
    error: z.string().nullable(),
    duration_ms: z.number().int().min(0),
  })
  .meta({ id: 'WebhookAttempt' });
export type WebhookAttempt = z.infer<typeof WebhookAttempt>;

export const WebhookDeliveryStatus = z.enum(['pending', 'delivered', 'failed']).meta({ id: 'WebhookDeliveryStatus' });
export type WebhookDeliveryStatus = z.infer<typeof WebhookDeliveryStatus>;

/** One event for one endpoint: sent until the endpoint answers 2xx or the retry schedule runs out. */
export const WebhookDelivery = z
  .strictObject({
    id: WebhookDeliveryId,
    endpoint_id: WebhookEndpointId,
    /** the `webhook-id` header of every attempt: receivers deduplicate by it */
    event_id: z.string(),
    event_type: OutboundEventType,
    status: WebhookDeliveryStatus,
    /** when the next attempt is due (pending only) */
    next_attempt_at: isoTime.nullable(),
    created_at: isoTime,
    attempts: z.array(WebhookAttempt),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookDeliveryList = z.strictObject({ deliveries: z.array(WebhookDelivery) }).meta({ id: 'WebhookDeliveryList' });
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;

const eventEnvelope = { timestamp: isoTime };

/** An order event's body: the order as `GET /api/orders/:id` shows it, with the status the event names. */
export const OrderEvent = z
  .strictObject({
    type: z.enum(ORDER_EVENT_TYPES),
    ...eventEnvelope,
    data: Order,
  })
  .meta({ id: 'OrderEvent' });
export type OrderEvent = z.infer<typeof OrderEvent>;

/** Paid orders account for the product's whole stock (as Postgres has it). */
export const ProductSoldOutEvent = z
  .strictObject({
    type: z.literal('product.sold_out'),
    ...eventEnvelope,
    data: z.strictObject({ product_id: productId, stock: units, sold: units }),
  })
  .meta({ id: 'ProductSoldOutEvent' });
export type ProductSoldOutEvent = z.infer<typeof ProductSoldOutEvent>;

/** A hold was placed, released, expired or converted into an order: the hold as `GET /api/holds/:id` shows it then. */
export const HoldEvent = z
  .strictObject({ type: HoldEventType, ...eventEnvelope, data: Hold })
  .meta({ id: 'HoldEvent' });
export type HoldEvent = z.infer<typeof HoldEvent>;

/** A waiting room admitted the customer: a hold is theirs to place until `admitted_until`. */
export const QueueAdmittedEvent = z
  .strictObject({
    type: z.literal('queue.admitted'),
    ...eventEnvelope,
    data: z.strictObject({ product_id: productId, user_id: z.string(), admitted_until: isoTime }),
  })
  .meta({ id: 'QueueAdmittedEvent' });
export type QueueAdmittedEvent = z.infer<typeof QueueAdmittedEvent>;

/** The raffle's draw, or its waitlist later, gave the entrant a hold of one unit. */
export const RaffleWonEvent = z
  .strictObject({
    type: z.literal('raffle.won'),
    ...eventEnvelope,
    data: z.strictObject({ product_id: productId, user_id: z.string(), hold_id: recordId }),
  })
  .meta({ id: 'RaffleWonEvent' });
export type RaffleWonEvent = z.infer<typeof RaffleWonEvent>;

/** Not among the draw's winners; `position` in draw order on the waitlist (a unit that comes back goes to the first). */
export const RaffleNotSelectedEvent = z
  .strictObject({
    type: z.literal('raffle.not_selected'),
    ...eventEnvelope,
    data: z.strictObject({ product_id: productId, user_id: z.string(), position: z.number().int().min(1) }),
  })
  .meta({ id: 'RaffleNotSelectedEvent' });
export type RaffleNotSelectedEvent = z.infer<typeof RaffleNotSelectedEvent>;

/** What a receiver gets: the Standard Webhooks payload shape (`type`, `timestamp`, `data`). */
export const OutboundEvent = z
  .discriminatedUnion('type', [OrderEvent, ProductSoldOutEvent, HoldEvent, QueueAdmittedEvent, RaffleWonEvent, RaffleNotSelectedEvent])
  .meta({ id: 'OutboundEvent' });
export type OutboundEvent = z.infer<typeof OutboundEvent>;

// ---- the operator's console: GET /api/admin/live (Server-Sent Events) ----

const perSecond = z.number().min(0);
/** milliseconds; null when nothing was measured in the window */
const ms = z.number().min(0).nullable();

/** A waiting room or raffle on the dashboard: the admin view's figures, with the mode and where the draw stands. */
export const LiveAdmission = AdmissionStats.extend({
  mode: Admission.exclude(['open']),
  raffle_closes_at: isoTime.nullable(),
  /** a raffle's draw: `open` (taking entries), `closed` (drawn once the sale is on), `drawn`; null for a waiting room */
  draw: z.enum(['open', 'closed', 'drawn']).nullable(),
}).meta({ id: 'LiveAdmission' });
export type LiveAdmission = z.infer<typeof LiveAdmission>;

/** One product on the dashboard: its stock by state, its sale window and what Postgres has yet to receive. */
export const LiveProduct = z
  .strictObject({
    id: productId,
    name: z.string(),
    sale_starts_at: isoTime.nullable(),
    sale_ends_at: isoTime.nullable(),
    sale: z.enum(['upcoming', 'open', 'ended']),
    stock: Stock,
    /** orders and payment events not yet written to Postgres */
    outbox: units,
    /** null for an `open` product */
    admission: LiveAdmission.nullable(),
  })
  .meta({ id: 'LiveProduct' });
export type LiveProduct = z.infer<typeof LiveProduct>;

/** Latency of one route over the last seconds (from the request histogram's buckets). */
export const LiveRoute = z
  .strictObject({ method: z.string(), route: z.string(), per_s: perSecond, server_errors_per_s: perSecond, p50_ms: ms, p99_ms: ms })
  .meta({ id: 'LiveRoute' });
export type LiveRoute = z.infer<typeof LiveRoute>;

/** The few numbers drawn as sparklines, one point per snapshot. */
export const LivePoint = z
  .strictObject({
    at: isoTime,
    holds_per_s: perSecond,
    sold_out_per_s: perSecond,
    requests_per_s: perSecond,
    outbox: units,
    oldest_change_age_s: z.number().min(0).nullable(),
    event_loop_p99_ms: ms,
  })
  .meta({ id: 'LivePoint' });
export type LivePoint = z.infer<typeof LivePoint>;

/** Products a live snapshot shows at most: a page of thousands would be read by nobody and cost every viewer. */
export const LIVE_PRODUCTS_SHOWN = 100;

/** `event: snapshot`, about once a second; every open stream gets the same one. */
export const LiveSnapshot = LivePoint.extend({
  /**
   * at most LIVE_PRODUCTS_SHOWN products, listed in id order, chosen among those with hold requests in
   * the last second first, then the others; in a large catalogue a product without hold requests shows
   * its figures as last read (the engine reads them in turn, a few hundred a second)
   */
  products: z.array(LiveProduct),
  /** products in Redis */
  products_total: units,
  /** hold requests refused by code, per second */
  refused_per_s: z.record(z.string(), perSecond),
  /** since the process started: holds placed, orders created from them, orders paid */
  conversion: z.strictObject({ holds: units, orders: units, paid: units }),
  /** payment events since the process started, by result */
  webhooks: z.record(z.string(), units),
  /** background jobs by queue and state; null when Redis could not be read */
  queues: z.record(z.string(), z.record(z.string(), units)).nullable(),
  routes: z.array(LiveRoute),
  event_loop: z.strictObject({ p50_ms: ms, p99_ms: ms, max_ms: ms }),
  /** why the engine's state could not be read this second (Redis unreachable, ...), else null */
  error: z.string().nullable(),
}).meta({ id: 'LiveSnapshot' });
export type LiveSnapshot = z.infer<typeof LiveSnapshot>;

/** `event: history`, first on every stream: the points of the last minutes, oldest first. */
export const LiveHistory = z.array(LivePoint).meta({ id: 'LiveHistory' });
export type LiveHistory = z.infer<typeof LiveHistory>;

// ---- waiting room and raffle (docs/fair-drops.md) ----

export const TicketStatus = z
  .enum(['waiting', 'admitted', 'expired', 'sold_out', 'entered', 'won', 'not_selected'])
  .meta({ id: 'TicketStatus' });
export type TicketStatus = z.infer<typeof TicketStatus>;

/**
 * A customer's place in a waiting room (`waiting → admitted → expired`, or `sold_out`; an admitted ticket
 * without a hold is `waiting` again while its sale is moved into the future) or raffle (`entered → won |
 * not_selected`; a not-selected entrant can still win from the waitlist). Once the sale has ended, a ticket
 * that did not get its customer a hold is answered 409 `sale_ended`.
 */
export const Ticket = z
  .strictObject({
    product_id: productId,
    admission: z.enum(['queue', 'raffle']),
    status: TicketStatus,
    /** fixed once the line is open; null in the pre-queue (before the sale opens, or reopens after a postponement) and in a raffle */
    position: z.number().int().min(1).nullable(),
    /** waiting tickets in front of this one */
    ahead: units.nullable(),
    /** seconds until admission at the rate admissions are happening (null: unknown or not waiting) */
    eta_s: units.nullable(),
    /** admitted: place a hold before then; won: the hold's expiry */
    admitted_until: isoTime.nullable(),
    /** won: the hold the draw gave */
    hold_id: recordId.nullable(),
    /** when to ask again (null: the ticket will not change by itself) */
    poll_after_s: units.nullable(),
  })
  .meta({ id: 'Ticket' });
export type Ticket = z.infer<typeof Ticket>;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);

/** A raffle's draw: the commitment before the close, the seed and the winners after the draw. */
export const Draw = z
  .strictObject({
    product_id: productId,
    closes_at: isoTime,
    /** sha256 of the seed's bytes, published before the close */
    commitment: hex64,
    /** revealed by the draw (null before) */
    seed: hex64.nullable(),
    entries: units,
    /** winners of the draw itself (null before it) */
    winners: units.nullable(),
    drawn_at: isoTime.nullable(),
    /** every entrant's user id in draw order (null before the draw): sorted, they are the entries */
    order: z.array(z.string()).nullable(),
    /** how to recompute the draw order from the entries and the seed */
    algorithm: z.string(),
  })
  .meta({ id: 'Draw' });
export type Draw = z.infer<typeof Draw>;
