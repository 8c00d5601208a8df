// The shapes the scenario steps and both runners share, as JSDoc types (no code): the scenario file,
// the engine's answers, and what a runner hands the steps (HTTP, crypto, sleep, where rules and orders go).

/**
 * loadtests/scenarios.json; the Node runner validates it (loadtests/lib/scenario-config.ts), and a test
 * keeps that schema and these shapes in step.
 * @typedef {{ name: string, unit_price_minor: number, currency: string }} ProductTemplate
 * @typedef {{ p99_ms: number, max_unexpected: number, postgres_timeout_s: number }} PassRules
 * @typedef {{ qty_max: number, think_ms: [number, number], abandon_hold_share: number, abandon_payment_share: number, payment_failed_share: number }} FlowParams
 * @typedef {'payment.succeeded' | 'payment.failed'} PaymentEventType
 * @typedef {'pending_payment' | 'paid' | 'payment_failed' | 'expired' | 'refund_required'} OrderStatus
 * @typedef {{ steps: PaymentEventType[][], before_order?: boolean, replay_conflict?: boolean, final_status: OrderStatus[] }} StormCase
 * @typedef {{ description: string, vus: number, duration_s: number, stock: number }} Common
 * @typedef {Common & { qty: number, opens_in_s: number, retry_ms: number, pass: PassRules }} StampedeDef
 * @typedef {Common & { flow: FlowParams, drain_timeout_s: number, expiry_sample: number, pass: PassRules }} CheckoutDef
 * @typedef {Common & { copies: number, cases: Record<string, StormCase>, pass: PassRules }} WebhookStormDef
 * @typedef {PassRules & { p99_growth_max: number, p99_slack_ms: number, rss_growth_max: number, rss_slack_mb: number }} SoakPassRules
 * @typedef {{ browse: number, checkout: number, hold_release: number }} SoakMix
 * @typedef {Common & { interval_s: number, think_ms: [number, number], mix: SoakMix, flow: FlowParams, pass: SoakPassRules }} SoakDef
 * @typedef {Omit<FlowParams, 'qty_max'>} CheckOutParams
 * @typedef {Common & { products: number, qty: number, opens_in_s: number, poll_ms: [number, number], retry_ms: number, early_share: number, flow: CheckOutParams, pass: PassRules }} DropDef
 * @typedef {'open' | 'queue'} DropAdmission
 * @typedef {Common & { customers: number, admission: DropAdmission, admission_window_s: number, opens_in_s: number, arrivals_s: number, retry_ms: number, impatient_share: number, miss_window_share: number, flow: CheckOutParams, pass: PassRules }} DropQueueDef
 * @typedef {{ stampede: StampedeDef, checkout: CheckoutDef, 'webhook-storm': WebhookStormDef, soak: SoakDef, drop: DropDef, 'drop-queue': DropQueueDef }} ScenarioDefs
 * @typedef {keyof ScenarioDefs} ScenarioName
 * @typedef {{ product: ProductTemplate, scenarios: ScenarioDefs }} ScenarioFile
 */

/**
 * One run of a scenario, as its setup sees it.
 * @template {ScenarioName} N
 * @typedef {object} RunInfo
 * @property {N} name
 * @property {ScenarioDefs[N]} def
 * @property {ProductTemplate} product
 * @property {string} runId unique per run: in product ids, user ids, idempotency keys and event ids
 * @property {number} vus
 */

/**
 * The engine's answers (SPEC.md); a test keeps them in step with the engine's own types.
 * @typedef {{ total: number, available: number, held: number, pending_payment: number, sold: number }} StockBreakdown
 * @typedef {{ id: string, unit_price_minor: number, currency: string, stock: StockBreakdown }} AdminProductView
 * @typedef {{ sale_starts_at?: string, admission?: 'open' | 'queue', admission_window_s?: number }} ProductExtras what a scenario sets on its products beyond name, price and stock
 * @typedef {{ id: string, name: string, unit_price_minor: number, currency: string, available: number, sale_starts_at: string | null, sale_ends_at: string | null, per_user_limit: number | null }} ProductView
 * @typedef {'active' | 'converted' | 'released' | 'expired'} HoldStatus
 * @typedef {{ id: string, product_id: string, user_id: string, qty: number, status: HoldStatus, created_at: string, expires_at: string }} HoldView
 * @typedef {{ id: string, hold_id: string, product_id: string, user_id: string, qty: number, unit_price_minor: number, total_minor: number, currency: string, status: OrderStatus, created_at: string, payment_due_at: string }} OrderView
 * @typedef {{ event_id: string, type: PaymentEventType, hold_id: string, order_id?: string, amount_minor: number, currency: string }} PaymentEvent
 * @typedef {'waiting' | 'admitted' | 'expired' | 'sold_out' | 'entered' | 'won' | 'not_selected'} TicketStatus
 * @typedef {{ product_id: string, admission: 'queue' | 'raffle', status: TicketStatus, position: number | null, ahead: number | null, eta_s: number | null, admitted_until: string | null, hold_id: string | null, poll_after_s: number | null }} TicketView
 */

/**
 * SPEC: applied | duplicate | deferred. The engine also answers `ignored` for an event it recorded but
 * that cannot change the order any more (a failure after the success): processed once, no effect.
 * @typedef {'applied' | 'duplicate' | 'deferred' | 'ignored'} WebhookResult
 * @typedef {{ result?: WebhookResult, order_id?: string | null, order_status?: OrderStatus | null }} WebhookAnswer
 */

/**
 * The HTTP adapter a runner provides: one request in, one response out, never throws (a network error
 * is status 0 with `error`). Header names are lower case both ways.
 * @typedef {object} HttpRequest
 * @property {string} method
 * @property {string} url
 * @property {Record<string, string>} headers
 * @property {string | undefined} body
 * @property {string} name request name for the statistics, e.g. `GET /api/orders/:id`
 * @property {boolean} recorded a load-phase call (setup and verification calls are not)
 * @property {readonly string[]} expect the outcomes the step expects (see `isExpected`)
 *
 * @typedef {object} HttpResponse
 * @property {number} status 0 = no response
 * @property {Record<string, string | undefined>} headers
 * @property {string} body
 * @property {number} ms
 * @property {string} [error] why there is no response
 *
 * @typedef {(req: HttpRequest) => Promise<HttpResponse>} Http
 */

/**
 * The crypto a runner provides (node:crypto, k6/crypto + k6/encoding).
 * @typedef {object} Crypto
 * @property {(secret: string, data: string, encoding: 'hex' | 'base64url') => string} hmacSha256 base64url without padding
 * @property {(text: string) => string} base64url UTF-8 bytes of `text`, base64url without padding
 */

/**
 * The secrets a run needs to talk to an engine as its customers, its operator and its payment provider.
 * @typedef {{ adminToken: string, jwtSecret: string, webhookSecret: string }} Credentials
 */

/**
 * One answered (or failed) request of the load phase, as the API reports it to the runner's statistics.
 * @typedef {object} Outcome
 * @property {string} name request name, e.g. `POST /api/holds`
 * @property {number} status 0 = no response (network error, timeout)
 * @property {string | undefined} code problem+json `code` of an error, or the step's label of a success (a webhook's `result`)
 * @property {number} ms
 * @property {boolean} expected false when the step did not expect this outcome (counted against `max_unexpected`)
 * @property {string | undefined} detail the answer or the error, for an unexpected outcome
 */

/**
 * Where the steps report a rule they check during the load (the Node runner tallies it, k6 makes it a check).
 * @typedef {{ check(rule: string, ok: boolean, detail: () => string): boolean }} RuleSink
 */

/**
 * An order a customer placed (the token reads it back), and what customers saw happen to their orders
 * and holds: the Node runner keeps a ledger, k6 counts the units seen paid.
 * @typedef {{ id: string, productId: string, qty: number, token: string }} CustomerOrder
 * @typedef {object} OrderLog
 * @property {(order: CustomerOrder, status: OrderStatus) => void} settled a customer read the order's status
 * @property {(holdId: string) => void} paymentAccepted the engine accepted a `payment.succeeded` for this hold (its order may be paid without a customer reading it back, e.g. paid before the order existed)
 * @property {(holdId: string, token: string) => void} abandonedHold
 * @property {(order: CustomerOrder) => void} abandonedOrder
 */

/**
 * A virtual user: one customer, running iterations one after another.
 * @typedef {object} Vu
 * @property {number} id 1-based, like k6's `exec.vu.idInTest`
 * @property {number} iter 0-based, like k6's `exec.vu.iterationInScenario`
 * @property {string} token the customer's bearer token
 */

/**
 * What a runner hands the steps of one VU.
 * @typedef {object} StepContext
 * @property {import('./api.js').EngineApi} api load-phase calls (recorded)
 * @property {string} runId
 * @property {Vu} vu
 * @property {(ms: number) => Promise<void>} sleep
 * @property {RuleSink} rules
 * @property {OrderLog} orders
 */

/** @typedef {{ ok: boolean, detail: string }} Verdict */

export {};
