// Scenario settings for k6: the definitions from loadtests/scenarios.json (the same file the Node
// runner reads; its schema is loadtests/lib/scenario-config.ts) plus the `-e` environment.

/**
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
 * @typedef {Common & { interval_s: number, think_ms: [number, number], mix: { browse: number, checkout: number, hold_release: number }, flow: FlowParams, pass: SoakPassRules }} SoakDef
 * @typedef {{ stampede: StampedeDef, checkout: CheckoutDef, 'webhook-storm': WebhookStormDef, soak: SoakDef }} ScenarioDefs
 * @typedef {{ product: ProductTemplate, scenarios: ScenarioDefs }} ScenarioFile
 */

/**
 * @typedef {object} Target
 * @property {string} baseUrl
 * @property {string} adminToken
 * @property {string} jwtSecret
 * @property {string} webhookSecret
 */

/**
 * @template {keyof ScenarioDefs} N
 * @typedef {object} Settings
 * @property {N} name
 * @property {ScenarioDefs[N]} def
 * @property {ProductTemplate} product
 * @property {Target} target
 * @property {number} vus
 * @property {number} durationS
 * @property {number} drainS seconds teardown waits for abandoned holds/orders to expire (0 = no wait)
 */

/** The engine's development defaults (src/config.ts DEV_SECRETS): a `npm start` engine works without -e. */
const DEV = {
  ADMIN_TOKEN: 'dev-admin-token-change-me',
  JWT_SECRET: 'dev-jwt-secret-change-me',
  WEBHOOK_SECRET: 'dev-webhook-secret-change-me',
};

/**
 * @param {string} name
 * @param {number} fallback
 */
function numberEnv(name, fallback) {
  const raw = __ENV[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`-e ${name} must be a non-negative number, got ${raw}`);
  return n;
}

/**
 * The settings of one scenario. `file` is `JSON.parse(open('../scenarios.json'))`, read by the script
 * itself (open() paths are relative to the script that is run).
 * @template {keyof ScenarioDefs} N
 * @param {ScenarioFile} file
 * @param {N} name
 * @returns {Settings<N>}
 */
export function settings(file, name) {
  const def = file.scenarios[name];
  return {
    name,
    def,
    product: file.product,
    target: {
      baseUrl: (__ENV.BASE_URL || 'http://127.0.0.1:3000').replace(/\/+$/, ''),
      adminToken: __ENV.ADMIN_TOKEN || DEV.ADMIN_TOKEN,
      jwtSecret: __ENV.JWT_SECRET || DEV.JWT_SECRET,
      webhookSecret: __ENV.WEBHOOK_SECRET || DEV.WEBHOOK_SECRET,
    },
    vus: numberEnv('VUS', def.vus),
    durationS: numberEnv('DURATION', def.duration_s),
    drainS: numberEnv('DRAIN', 0),
  };
}

/** A short random id for a run (product ids, user ids, event ids). Call it in setup(): init code runs once per VU. */
export function runId() {
  return Math.random().toString(16).slice(2, 10).padEnd(8, '0');
}
