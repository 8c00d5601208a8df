import { readFileSync } from 'node:fs';
import { z } from 'zod';

/**
 * The scenario definitions (`loadtests/scenarios.json`), validated. The k6 scripts read the same file
 * unvalidated, so this schema is the contract of that file; the steps read it through the JSDoc shapes
 * of loadtests/steps/types.js, which test/loadtests/step-shapes.test.ts keeps in step with it.
 */

export const SCENARIO_NAMES = ['stampede', 'checkout', 'webhook-storm', 'soak', 'drop', 'drop-queue'] as const;
export type ScenarioName = (typeof SCENARIO_NAMES)[number];

const share = z.number().min(0).max(1);
const range = z.tuple([z.number().min(0), z.number().min(0)]);

const PassRules = z.object({
  /** p99 of every load request, in ms */
  p99_ms: z.number().positive(),
  /** responses outside what a step expects (5xx, network errors, unexpected codes) */
  max_unexpected: z.number().int().min(0),
  /** how long paid orders may take to show up in Postgres */
  postgres_timeout_s: z.number().positive(),
});

const common = {
  description: z.string(),
  vus: z.number().int().positive(),
  duration_s: z.number().positive(),
  stock: z.number().int().positive(),
  /** environment for an engine the runner starts itself (short TTLs so expiry runs during the test) */
  engine_env: z.record(z.string(), z.string()).default({}),
};

/** One customer's hold -> order -> payment, shared by `checkout` and `soak`. */
const FlowParams = z.object({
  qty_max: z.number().int().min(1).max(100),
  think_ms: range,
  abandon_hold_share: share,
  abandon_payment_share: share,
  payment_failed_share: share,
});

const PaymentEventType = z.enum(['payment.succeeded', 'payment.failed']);

const OrderStatus = z.enum(['pending_payment', 'paid', 'payment_failed', 'expired', 'refund_required']);

/** A webhook-storm case: steps run one after another; the events of one step are sent concurrently, `copies` times each, shuffled. */
const StormCase = z.object({
  steps: z.array(z.array(PaymentEventType).min(1)).min(1),
  /** the first step is delivered before the order exists (the engine defers it) */
  before_order: z.boolean().default(false),
  /** finally re-send the first event with another amount: 422 idempotency_key_reused expected */
  replay_conflict: z.boolean().default(false),
  final_status: z.array(OrderStatus).min(1),
});

const StampedeDef = z.object({
  ...common,
  qty: z.number().int().min(1).max(100),
  opens_in_s: z.number().min(0),
  retry_ms: z.number().min(1),
  pass: PassRules,
});

const CheckoutDef = z.object({
  ...common,
  flow: FlowParams,
  drain_timeout_s: z.number().positive(),
  expiry_sample: z.number().int().min(0),
  pass: PassRules,
});

const WebhookStormDef = z.object({
  ...common,
  copies: z.number().int().min(1).max(50),
  cases: z.record(z.string(), StormCase),
  pass: PassRules,
});

const SoakDef = z.object({
  ...common,
  interval_s: z.number().positive(),
  think_ms: range,
  mix: z.object({ browse: z.number().min(0), checkout: z.number().min(0), hold_release: z.number().min(0) }),
  flow: FlowParams,
  pass: PassRules.extend({
    p99_growth_max: z.number().positive(),
    p99_slack_ms: z.number().min(0),
    rss_growth_max: z.number().positive(),
    rss_slack_mb: z.number().min(0),
  }),
});

/** A drop: a sale opens at a set time on many products while customers wait on their product's page. */
const DropDef = z.object({
  ...common,
  /** products on sale, `stock` units each; customers are spread over them evenly */
  products: z.number().int().min(1).max(1000),
  qty: z.number().int().min(1).max(100),
  opens_in_s: z.number().min(0),
  /** how often a waiting customer reloads the product page */
  poll_ms: range,
  /** wait before asking again after `409 sale_not_started` (a Retry-After overrides it) */
  retry_ms: z.number().min(1),
  /** customers who also ask for a hold each time they reload before the opening */
  early_share: share,
  /** what a customer does with a hold: the checkout's shares and think times */
  flow: FlowParams.omit({ qty_max: true }),
  pass: PassRules,
});

/** A drop on one product through a waiting room, to a crowd of customers many times the VUs (each VU drives every `vus`-th). */
const DropQueueDef = z.object({
  ...common,
  customers: z.number().int().positive(),
  /** `queue`: the waiting room; `open`: the same crowd goes straight for holds (for comparison) */
  admission: z.enum(['open', 'queue']),
  /** how long an admitted customer has to place a hold (the engine takes 5 and up) */
  admission_window_s: z.number().int().min(5),
  opens_in_s: z.number().min(0),
  /** customers arrive evenly spread over this many seconds from the start */
  arrivals_s: z.number().min(0),
  /** open: wait before asking again after `409 sale_not_started` (a Retry-After overrides it) */
  retry_ms: z.number().min(1),
  /** waiting customers who also ask for a hold at every poll */
  impatient_share: share,
  /** admitted customers who let their window pass, then ask for a hold anyway */
  miss_window_share: share,
  /** what a customer does with a hold: the checkout's shares and think times */
  flow: FlowParams.omit({ qty_max: true }),
  pass: PassRules,
});

export const ProductTemplate = z.object({
  name: z.string(),
  unit_price_minor: z.number().int().min(0),
  currency: z.string().regex(/^[A-Z]{3}$/),
});
export type ProductTemplate = z.infer<typeof ProductTemplate>;

export const ScenarioFile = z.object({
  product: ProductTemplate,
  scenarios: z.object({
    stampede: StampedeDef,
    checkout: CheckoutDef,
    'webhook-storm': WebhookStormDef,
    soak: SoakDef,
    drop: DropDef,
    'drop-queue': DropQueueDef,
  }),
});
export type ScenarioFile = z.infer<typeof ScenarioFile>;
export type ScenarioDefs = ScenarioFile['scenarios'];

const SCENARIOS_PATH = new URL('../scenarios.json', import.meta.url);

/** Fields of one scenario's definition to use instead of the file's (validated like the file). */
export type ScenarioOverrides = Partial<ScenarioDefs[ScenarioName]>;

export function loadScenarioFile(path: URL | string = SCENARIOS_PATH, overrides?: { name: ScenarioName; values: ScenarioOverrides }): ScenarioFile {
  const raw = JSON.parse(readFileSync(path, 'utf8')) as { scenarios: Record<string, object> };
  if (overrides) raw.scenarios[overrides.name] = { ...raw.scenarios[overrides.name], ...overrides.values };
  return ScenarioFile.parse(raw);
}

export function isScenarioName(name: string): name is ScenarioName {
  return (SCENARIO_NAMES as readonly string[]).includes(name);
}
