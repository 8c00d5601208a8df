import { createRoute, type RouteConfig } from '@hono/zod-openapi';
import { z } from 'zod';
import {
  AdminProduct,
  CreateHoldBody,
  CreateOrderBody,
  CreateProductBody,
  Draw,
  HealthLive,
  HealthReady,
  Hold,
  Order,
  PatchProductBody,
  PaymentEvent,
  WebhookAnswer,
  PaymentOutcome,
  Product,
  ReconcileQuery,
  ReconcileReport,
  InboxRecovery,
  RecoverBody,
  RecoveryReport,
  Ticket,
  CreateWebhookEndpointBody,
  CreatedWebhookEndpoint,
  WebhookDelivery,
  WebhookDeliveryList,
  WebhookEndpoint,
  WebhookEndpointList,
} from '../../contract.js';
import type { ErrorCode } from '../../errors.js';
import { DASHBOARD_FILES } from '../routes/dashboard.js';
import { DOCS_ASSETS } from '../routes/docs.js';
import { AdyenNotification } from '../webhooks/adyen.js';
import { StripeEvent } from '../webhooks/stripe.js';
import { problems } from './problems.js';

/**
 * Every operation of the API as the document states it: path, security, request and each answer with
 * the contract's schemas. The routes in ../routes validate with the same schemas; a test holds this
 * table and the app's routes to each other, and checks real answers against the document.
 * (Why a table beside the routes rather than `app.openapi()`: docs/decisions/013-api-document-beside-the-routes.md.)
 */

// ---- problem codes every operation of a kind can answer ----

/** Redis or Postgres unreachable (503 with Retry-After), or a failure nobody expected (500 with a request id). */
const STORES: ErrorCode[] = ['unavailable', 'internal_error'];
/** A write that waits for Redis replicas (REDIS_REPLICA_ACKS) and got too few in time (503 with Retry-After). */
const REPLICATED: ErrorCode[] = ['replication_unconfirmed'];
/** A customer bearer token: missing or invalid, or over the customer's rate limit. */
const CUSTOMER: ErrorCode[] = ['unauthorized', 'rate_limited', ...STORES];
/** The admin bearer token: missing or wrong, or a customer's token. */
const ADMIN: ErrorCode[] = ['unauthorized', 'forbidden', ...STORES];
/** A JSON body: at most 16 KiB, `application/json`, valid JSON, matching its schema. */
const JSON_BODY: ErrorCode[] = ['invalid_json', 'invalid_request', 'payload_too_large', 'unsupported_media_type'];
/** A signed payment webhook. */
const WEBHOOK: ErrorCode[] = ['invalid_signature', ...JSON_BODY, 'hold_not_found', 'order_not_found', 'amount_mismatch', 'idempotency_key_reused', ...STORES, ...REPLICATED];

// ---- building blocks ----

const json = (schema: z.ZodType, description: string) => ({ description, content: { 'application/json': { schema } } });
const body = (schema: z.ZodType) => ({ required: true, content: { 'application/json': { schema } } });
const id = (description: string) => z.object({ id: z.string().meta({ description }) });

const customer = [{ customerToken: [] }];
const admin = [{ adminToken: [] }];

const IdempotencyKey = z.object({
  'Idempotency-Key': z
    .string()
    .optional()
    .meta({
      description:
        '1-255 printable characters, bare or as a structured-field string (`"..."`). The same key and body from the same ' +
        'customer answer the first hold again (with `Idempotent-Replayed: true`) for at least 24 h; another body is refused ' +
        'with 422 `idempotency_key_reused`. A key is scoped to its customer and product.',
      example: '"5f0c6a4e-checkout-1"',
    }),
});

const Replayed = z.object({
  'Idempotent-Replayed': z.literal('true').optional().meta({ description: 'present when this is the answer to an earlier request with the same Idempotency-Key' }),
});

// ---- operations ----

const getProduct = createRoute({
  method: 'get',
  path: '/api/products/{id}',
  operationId: 'getProduct',
  tags: ['products'],
  summary: 'A product as customers see it',
  description: 'No authentication. `available` is what can be held right now.',
  request: { params: id('product id') },
  responses: { 200: json(Product, 'the product'), ...problems(['product_not_found', ...STORES]) },
});

const createHold = createRoute({
  method: 'post',
  path: '/api/holds',
  operationId: 'createHold',
  tags: ['holds'],
  summary: 'Hold units of a product',
  description:
    'The stampede\'s route: reserves `qty` units for HOLD_TTL_MS (2 minutes by default) or refuses at once. ' +
    'Stock, the sale window and the per-customer limit are decided in one atomic step; a sold-out product answers 409 ' +
    '`insufficient_stock` with `available: 0`. A product with a waiting room holds only for a customer admitted now, ' +
    'once per admission, and a raffle\'s product never: otherwise 403 `not_admitted` with the customer\'s `position` ' +
    '(null without a ticket or before the line opens).',
  security: customer,
  request: { headers: IdempotencyKey, body: body(CreateHoldBody) },
  responses: {
    201: { ...json(Hold, 'the hold, `active` (or the earlier answer, replayed)'), headers: Replayed },
    ...problems([
      ...CUSTOMER, ...JSON_BODY, 'product_not_found', 'hold_not_found', 'insufficient_stock', 'sale_not_started', 'sale_ended',
      'per_user_limit_exceeded', 'idempotency_key_reused', 'not_admitted', ...REPLICATED,
    ]),
  },
});

const joinQueue = createRoute({
  method: 'post',
  path: '/api/products/{id}/queue',
  operationId: 'joinQueue',
  tags: ['fair drops'],
  summary: 'Join a product\'s waiting room, or enter its raffle',
  description:
    'One ticket per customer: joining again answers the same ticket. Joining a waiting room before the sale opens ' +
    '(or while a sale moved into the future keeps it closed) places the customer in a random order at the opening ' +
    '(`position: null` until then); after, at the end of the line. A raffle takes entries until `raffle_closes_at` ' +
    '(then 409 `raffle_closed`); a product sold without either is 409 `not_queued`. Once the sale has ended, 409 ' +
    '`sale_ended`, unless the customer\'s ticket got them a hold (then the ticket).',
  security: customer,
  request: { params: id('product id') },
  responses: {
    201: json(Ticket, 'joined: the new ticket'),
    200: json(Ticket, 'the customer had joined: the same ticket'),
    ...problems([...CUSTOMER, 'product_not_found', 'not_queued', 'raffle_closed', 'sale_ended', ...REPLICATED]),
  },
});

const getTicket = createRoute({
  method: 'get',
  path: '/api/products/{id}/queue',
  operationId: 'getTicket',
  tags: ['fair drops'],
  summary: 'The customer\'s ticket: place in line, admission, raffle result',
  description:
    'Poll it every `poll_after_s` seconds. A waiting ticket may be answered from a view of the line at most half a second old. ' +
    'Once the sale has ended, a ticket that did not get the customer a hold (waiting, admitted and unused, expired, sold out, ' +
    'entered, not selected) is 409 `sale_ended`: nothing can come of it any more.',
  security: customer,
  request: { params: id('product id') },
  responses: { 200: json(Ticket, 'the ticket'), ...problems([...CUSTOMER, 'product_not_found', 'ticket_not_found', 'sale_ended']) },
});

const getDraw = createRoute({
  method: 'get',
  path: '/api/products/{id}/draw',
  operationId: 'getDraw',
  tags: ['fair drops'],
  summary: 'A raffle\'s public record, to check the draw',
  description:
    'No authentication. Before the draw: the `commitment` (SHA-256 of the seed). After: the `seed` and every entrant in ' +
    '`order`, which anyone can recompute as `algorithm` says (docs/fair-drops.md). A product that is not a raffle is 409 `not_queued`.',
  request: { params: id('product id') },
  responses: { 200: json(Draw, 'the draw, or its commitment before the close'), ...problems(['product_not_found', 'not_queued', ...STORES]) },
});

const getHold = createRoute({
  method: 'get',
  path: '/api/holds/{id}',
  operationId: 'getHold',
  tags: ['holds'],
  summary: 'One of the customer\'s holds',
  description: 'Another customer\'s hold is not found.',
  security: customer,
  request: { params: id('hold id') },
  responses: { 200: json(Hold, 'the hold'), ...problems([...CUSTOMER, 'hold_not_found']) },
});

const releaseHold = createRoute({
  method: 'delete',
  path: '/api/holds/{id}',
  operationId: 'releaseHold',
  tags: ['holds'],
  summary: 'Release one of the customer\'s holds',
  description: 'Its stock is available again at once. Releasing a released hold answers it again.',
  security: customer,
  request: { params: id('hold id') },
  responses: { 200: json(Hold, 'the hold, `released`'), ...problems([...CUSTOMER, 'hold_not_found', 'hold_not_active', 'hold_expired', ...REPLICATED]) },
});

const createOrder = createRoute({
  method: 'post',
  path: '/api/orders',
  operationId: 'createOrder',
  tags: ['orders'],
  summary: 'Turn a hold into an order',
  description:
    'The order waits PAYMENT_TTL_MS (15 minutes by default) for its payment, at the price the product had when it was held. ' +
    'A payment that arrived before the order is applied now.',
  security: customer,
  request: { body: body(CreateOrderBody) },
  responses: {
    201: json(Order, 'the new order, `pending_payment` (or already `paid`)'),
    200: json(Order, 'the hold was converted before: its order'),
    ...problems([...CUSTOMER, ...JSON_BODY, 'hold_not_found', 'hold_not_active', 'hold_expired', ...REPLICATED]),
  },
});

const getOrder = createRoute({
  method: 'get',
  path: '/api/orders/{id}',
  operationId: 'getOrder',
  tags: ['orders'],
  summary: 'One of the customer\'s orders',
  description: 'From Redis while the order is live there, from Postgres after. Another customer\'s order is not found.',
  security: customer,
  request: { params: id('order id') },
  responses: { 200: json(Order, 'the order'), ...problems([...CUSTOMER, 'order_not_found']) },
});

/** One delivery of a payment provider: its events are applied once each, by event id. */
const inbox =
  'Each event is stored in the payments inbox (Postgres) before it is applied and answered: with Postgres unreachable the ' +
  'answer is 503 `unavailable` with Retry-After and nothing is applied. An `event_id` is unique across the engine: the same ' +
  'id for another hold, amount, type or provider is 422 `idempotency_key_reused`.';
const paymentOutcome = json(PaymentOutcome, 'what the event did, and the order after it');
const signed = 'Signed as in Stripe\'s scheme: `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`, several `v1` ' +
  'allowed (rotation), at most 300 s from now.';

const genericWebhook = (path: string, operationId: string, aliasOf?: string) =>
  createRoute({
    method: 'post',
    path,
    operationId,
    tags: ['webhooks'],
    summary: aliasOf ? `Payment event (same as ${aliasOf})` : 'Payment event in the engine\'s own shape',
    description:
      `${signed} The secret is WEBHOOK_SECRET. The same \`event_id\` again answers \`duplicate\`; with another body 422 ` +
      '`idempotency_key_reused`. A payment for an order not yet created is kept (`deferred`) and applied when it is. ' + inbox,
    security: [{ paymentSignature: [] }, { stripeSignature: [] }],
    request: { body: body(PaymentEvent) },
    responses: { 200: paymentOutcome, ...problems(WEBHOOK) },
  });

const stripeWebhook = createRoute({
  method: 'post',
  path: '/api/webhooks/stripe',
  operationId: 'stripeWebhook',
  tags: ['webhooks'],
  summary: 'Stripe events',
  description:
    `${signed} The secret is STRIPE_WEBHOOK_SECRET; without it the route does not exist (404 \`not_found\`). ` +
    'PaymentIntent and Checkout Session events pay or fail the hold or order named in their `metadata` ' +
    '(`hold_id` / `order_id`); other events, payments without our ids, and the other mode (STRIPE_LIVEMODE) are ignored. ' +
    'A failed attempt (`payment_intent.payment_failed`) is not final — the customer may retry — and is ignored too; ' +
    '`payment_intent.canceled`, `checkout.session.async_payment_failed` and `checkout.session.expired` fail the order. ' + inbox,
  security: [{ stripeSignature: [] }],
  request: { body: body(StripeEvent) },
  responses: {
    200: json(WebhookAnswer, 'what the event did, or why it changes nothing'),
    ...problems([...WEBHOOK, 'not_found']),
  },
});

const adyenWebhook = createRoute({
  method: 'post',
  path: '/api/webhooks/adyen',
  operationId: 'adyenWebhook',
  tags: ['webhooks'],
  summary: 'Adyen standard notifications',
  description:
    'Each NotificationRequestItem carries its own signature in `additionalData.hmacSignature`: base64 HMAC-SHA256 with the ' +
    'webhook\'s hex HMAC key (ADYEN_WEBHOOK_SECRET; without it the route does not exist, 404 `not_found`) over ' +
    '`pspReference:originalReference:merchantAccountCode:merchantReference:value:currency:eventCode:success`. Every item is ' +
    'verified before any is applied. AUTHORISATION pays (`success` "true") or fails the hold or order in `merchantReference` ' +
    '(signed; ids in the unsigned `additionalData`, such as metadata, are not read); other items, and a batch of the other ' +
    'mode (ADYEN_LIVEMODE), are ignored. The answer covers the whole batch: every item is stored before any is applied, an ' +
    'item the engine refuses (amount mismatch, no such order) is logged and holds up no other, and only a failure of the ' +
    'whole batch (503) makes Adyen send it again. ' + inbox,
  request: { body: body(AdyenNotification) },
  responses: {
    200: { description: 'every item handled', content: { 'text/plain': { schema: z.literal('[accepted]') } } },
    ...problems([...WEBHOOK, 'not_found']),
  },
});

const adminCreateProduct = createRoute({
  method: 'post',
  path: '/api/admin/products',
  operationId: 'adminCreateProduct',
  tags: ['admin'],
  summary: 'Create a product',
  description:
    'Stored in Postgres, then loaded into Redis. Without an `id` the engine makes one. With `admission` `queue` or `raffle` ' +
    '(and its `raffle_closes_at`), customers join first (`joinQueue`) and hold only when admitted or drawn.',
  security: admin,
  request: { body: body(CreateProductBody) },
  responses: { 201: json(AdminProduct, 'the product with its stock'), ...problems([...ADMIN, ...JSON_BODY, 'product_exists']) },
});

const adminGetProduct = createRoute({
  method: 'get',
  path: '/api/admin/products/{id}',
  operationId: 'adminGetProduct',
  tags: ['admin'],
  summary: 'A product with its stock by state',
  security: admin,
  request: { params: id('product id') },
  responses: { 200: json(AdminProduct, 'the product with its stock'), ...problems([...ADMIN, 'product_not_found']) },
});

const adminPatchProduct = createRoute({
  method: 'patch',
  path: '/api/admin/products/{id}',
  operationId: 'adminPatchProduct',
  tags: ['admin'],
  summary: 'Restock, change the sale window, limit, name or price',
  description: 'A new price applies to new holds only. Stock below what is held, pending payment or sold is refused.',
  security: admin,
  request: { params: id('product id'), body: body(PatchProductBody) },
  responses: {
    200: json(AdminProduct, 'the product with its stock'),
    ...problems([...ADMIN, ...JSON_BODY, 'product_not_found', 'stock_below_committed']),
  },
});

const adminReleaseHold = createRoute({
  method: 'delete',
  path: '/api/admin/holds/{id}',
  operationId: 'adminReleaseHold',
  tags: ['admin'],
  summary: 'Release any customer\'s hold',
  security: admin,
  request: { params: id('hold id') },
  responses: { 200: json(Hold, 'the hold, `released`'), ...problems([...ADMIN, 'hold_not_found', 'hold_not_active', 'hold_expired', ...REPLICATED]) },
});

const reconcile = createRoute({
  method: 'post',
  path: '/api/admin/reconcile',
  operationId: 'reconcile',
  tags: ['admin'],
  summary: 'Compare Redis counters with Redis records and Postgres',
  description: 'Reports drift per product, repairs what is provably safe (not with `dry_run=true`), and flags `oversell_risk` for a human.',
  security: admin,
  request: { query: ReconcileQuery },
  responses: { 200: json(ReconcileReport, 'the report'), ...problems([...ADMIN, 'invalid_request']) },
});

const reapplyPayments = createRoute({
  method: 'post',
  path: '/api/admin/payments/reapply',
  operationId: 'reapplyPayments',
  tags: ['admin'],
  summary: 'Apply the payments inbox\'s events that Redis does not know',
  description:
    'What the sweep also does every SWEEP_INTERVAL_MS and the worker at start: every inbox event not yet known to be applied ' +
    '(or still deferred) is applied again; Redis answers the ones it knows as duplicates and applies the others once. A success ' +
    'whose hold neither Redis nor Postgres knows is marked `refund_required` in the inbox.',
  security: admin,
  responses: { 200: json(InboxRecovery, 'what the run found and did'), ...problems(ADMIN) },
});

const recover = createRoute({
  method: 'post',
  path: '/api/admin/recover',
  operationId: 'recover',
  tags: ['admin'],
  summary: 'Check every product against Postgres and rebuild those Redis is behind on',
  description:
    'What the engine also does before it first serves a product after a (re)connection to Redis, and what the worker does when ' +
    'Redis has lost its generation marker: a product whose Redis record is missing, or has a seq or progress mark below what ' +
    'Postgres has seen, is rebuilt from Postgres (counters from committed orders, pending orders back with their deadlines, ids ' +
    'never handed out again; holds that lived only in Redis are gone and their stock is available). Then the payments inbox is ' +
    'applied again and the repeatable jobs are registered. `force: true` rebuilds every product.',
  security: admin,
  request: { body: body(RecoverBody) },
  responses: { 200: json(RecoveryReport, 'what the run found and did'), ...problems([...ADMIN, ...JSON_BODY]) },
});

const createWebhookEndpoint = createRoute({
  method: 'post',
  path: '/api/admin/webhook-endpoints',
  operationId: 'createWebhookEndpoint',
  tags: ['outbound events'],
  summary: 'Register a receiver of outbound events',
  description:
    'Events are signed per the Standard Webhooks specification (`webhook-id`, `webhook-timestamp`, `webhook-signature`) ' +
    'with the `secret` of this answer, the only answer that shows it.',
  security: admin,
  request: { body: body(CreateWebhookEndpointBody) },
  responses: { 201: json(CreatedWebhookEndpoint, 'the endpoint with its signing secret'), ...problems([...ADMIN, ...JSON_BODY]) },
});

const listWebhookEndpoints = createRoute({
  method: 'get',
  path: '/api/admin/webhook-endpoints',
  operationId: 'listWebhookEndpoints',
  tags: ['outbound events'],
  summary: 'Every registered endpoint (without secrets)',
  security: admin,
  responses: { 200: json(WebhookEndpointList, 'the endpoints'), ...problems(ADMIN) },
});

const getWebhookEndpoint = createRoute({
  method: 'get',
  path: '/api/admin/webhook-endpoints/{id}',
  operationId: 'getWebhookEndpoint',
  tags: ['outbound events'],
  summary: 'One endpoint (without its secret)',
  security: admin,
  request: { params: id('endpoint id') },
  responses: { 200: json(WebhookEndpoint, 'the endpoint'), ...problems([...ADMIN, 'webhook_endpoint_not_found']) },
});

const deleteWebhookEndpoint = createRoute({
  method: 'delete',
  path: '/api/admin/webhook-endpoints/{id}',
  operationId: 'deleteWebhookEndpoint',
  tags: ['outbound events'],
  summary: 'Remove an endpoint and its deliveries',
  security: admin,
  request: { params: id('endpoint id') },
  responses: { 204: { description: 'removed' }, ...problems([...ADMIN, 'webhook_endpoint_not_found']) },
});

const enableWebhookEndpoint = createRoute({
  method: 'post',
  path: '/api/admin/webhook-endpoints/{id}/enable',
  operationId: 'enableWebhookEndpoint',
  tags: ['outbound events'],
  summary: 'Deliver to a disabled endpoint again',
  description:
    'An endpoint whose receiver answered 410 Gone, or whose every attempt failed for 5 days, is disabled: ' +
    'no deliveries are made for it, and its pending ones fail. ' +
    'Enabled again, it gets the events from then on; redeliver the failed ones it should still get.',
  security: admin,
  request: { params: id('endpoint id') },
  responses: { 200: json(WebhookEndpoint, 'the endpoint, enabled'), ...problems([...ADMIN, 'webhook_endpoint_not_found']) },
});

const listWebhookDeliveries = createRoute({
  method: 'get',
  path: '/api/admin/webhook-endpoints/{id}/deliveries',
  operationId: 'listWebhookDeliveries',
  tags: ['outbound events'],
  summary: "An endpoint's newest deliveries, each with every attempt",
  security: admin,
  request: { params: id('endpoint id') },
  responses: { 200: json(WebhookDeliveryList, 'the deliveries, newest first'), ...problems([...ADMIN, 'webhook_endpoint_not_found']) },
});

const redeliverWebhook = createRoute({
  method: 'post',
  path: '/api/admin/webhook-deliveries/{id}/redeliver',
  operationId: 'redeliverWebhook',
  tags: ['outbound events'],
  summary: 'Send a delivered or failed delivery again, with a fresh retry schedule',
  description: 'A delivery still pending is answered as it is.',
  security: admin,
  request: { params: id('delivery id') },
  responses: { 202: json(WebhookDelivery, 'the delivery, pending again'), ...problems([...ADMIN, 'webhook_delivery_not_found']) },
});

const healthLive = createRoute({
  method: 'get',
  path: '/health/live',
  operationId: 'healthLive',
  tags: ['operations'],
  summary: 'The process is up',
  responses: { 200: json(HealthLive, 'up'), ...problems(['internal_error']) },
});

const healthReady = createRoute({
  method: 'get',
  path: '/health/ready',
  operationId: 'healthReady',
  tags: ['operations'],
  summary: 'Redis, Postgres and the queues answer',
  description: 'Each check waits at most 1 s.',
  responses: { 200: json(HealthReady, 'ready'), 503: json(HealthReady, 'not ready: the failing checks say why'), ...problems(['internal_error']) },
});

const metrics = createRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'metrics',
  tags: ['operations'],
  summary: 'Prometheus metrics',
  description:
    "Node's own health (event-loop lag, GC, heap, handles), request latency by route and status, holds placed and refused " +
    'by code, orders and payments, stock by state, outbox depth and persistence lag, queue depths. While Redis is down it ' +
    'still answers, with `engine_redis_up 0`.',
  responses: {
    200: { description: 'Prometheus text exposition format 0.0.4', content: { 'text/plain': { schema: z.string() } } },
    ...problems(['internal_error']),
  },
});

const dashboardPage = createRoute({
  method: 'get',
  path: '/admin',
  operationId: 'dashboardPage',
  tags: ['operations'],
  summary: 'The live dashboard of a drop',
  description: 'Plain HTML served by the engine; the page asks for the admin token and sends it only in a header to `/api/admin/live`.',
  responses: { 200: { description: 'the page', content: { 'text/html': { schema: z.string() } } }, ...problems(['internal_error']) },
});

const dashboardFile = createRoute({
  method: 'get',
  path: '/admin/{file}',
  operationId: 'dashboardFile',
  tags: ['operations'],
  summary: 'Script and style of the dashboard',
  request: { params: z.object({ file: z.enum(DASHBOARD_FILES) }) },
  responses: {
    200: { description: 'the file', content: { 'text/html': { schema: z.string() }, 'text/css': { schema: z.string() }, 'text/javascript': { schema: z.string() } } },
    ...problems(['not_found', 'internal_error']),
  },
});

const liveFeed = createRoute({
  method: 'get',
  path: '/api/admin/live',
  operationId: 'liveFeed',
  tags: ['operations'],
  summary: "The dashboard's feed: Server-Sent Events",
  description: 'A `history` event (the last minutes), then a `snapshot` event about once a second, each `data` a JSON document.',
  security: admin,
  responses: {
    200: { description: 'the event stream', content: { 'text/event-stream': { schema: z.string() } } },
    ...problems(ADMIN),
  },
});

const openApiDocument = createRoute({
  method: 'get',
  path: '/openapi.json',
  operationId: 'openApiDocument',
  tags: ['operations'],
  summary: 'This document',
  responses: {
    200: json(z.object({ openapi: z.string() }).loose(), 'OpenAPI 3.1'),
    ...problems(['internal_error']),
  },
});

const docsPage = createRoute({
  method: 'get',
  path: '/docs',
  operationId: 'docsPage',
  tags: ['operations'],
  summary: 'This document, to read and try (Swagger UI, served by the engine itself)',
  responses: { 200: { description: 'the page', content: { 'text/html': { schema: z.string() } } }, ...problems(['internal_error']) },
});

const docsAsset = createRoute({
  method: 'get',
  path: '/docs/{asset}',
  operationId: 'docsAsset',
  tags: ['operations'],
  summary: 'Scripts and styles of the docs page',
  request: { params: z.object({ asset: z.enum(DOCS_ASSETS) }) },
  responses: {
    200: { description: 'the file', content: { 'text/css': { schema: z.string() }, 'text/javascript': { schema: z.string() } } },
    ...problems(['not_found', 'internal_error']),
  },
});

export const OPERATIONS: RouteConfig[] = [
  getProduct,
  joinQueue,
  getTicket,
  getDraw,
  createHold,
  getHold,
  releaseHold,
  createOrder,
  getOrder,
  genericWebhook('/api/webhooks/payment', 'paymentWebhook'),
  genericWebhook('/api/webhooks/generic', 'genericWebhook', 'POST /api/webhooks/payment'),
  stripeWebhook,
  adyenWebhook,
  adminCreateProduct,
  adminGetProduct,
  adminPatchProduct,
  adminReleaseHold,
  reconcile,
  reapplyPayments,
  recover,
  createWebhookEndpoint,
  listWebhookEndpoints,
  getWebhookEndpoint,
  deleteWebhookEndpoint,
  enableWebhookEndpoint,
  listWebhookDeliveries,
  redeliverWebhook,
  healthLive,
  healthReady,
  metrics,
  dashboardPage,
  dashboardFile,
  liveFeed,
  openApiDocument,
  docsPage,
  docsAsset,
];
