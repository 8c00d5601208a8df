import {
  createOrder,
  createProduct,
  paymentEvent,
  placeHold,
  sendPaymentEvent,
  type PaymentEvent,
  type WebhookResult,
} from '../../lib/engine-api.js';
import type { StormCase } from '../../lib/scenario-config.js';
import { productId, shuffle, type RunContext, type Scenario } from '../context.js';
import { ledgerOrder, settleOrder } from '../flows.js';
import type { Vu } from '../vus.js';

interface State {
  productId: string;
  unitPrice: number;
  currency: string;
  caseNames: string[];
}

const RULES = {
  effect: 'one effect per event (first delivery applied/ignored/deferred, the rest duplicate)',
  final: 'final order status as expected',
  conflict: 'same event_id with another body is refused (422)',
  converted: 'the hold converts into an order',
} as const;

/** Delivers every event of a step `copies` times, all at once, in random order. Returns the results per event id. */
async function deliverStep(ctx: RunContext<'webhook-storm'>, events: PaymentEvent[]): Promise<Map<string, (WebhookResult | string)[]>> {
  const deliveries = shuffle(events.flatMap((e) => Array.from({ length: ctx.def.copies }, () => e)));
  const responses = await Promise.all(deliveries.map((e) => sendPaymentEvent(ctx.engine, e)));
  const results = new Map<string, (WebhookResult | string)[]>();
  responses.forEach((res, i) => {
    const id = deliveries[i]!.event_id;
    const result = res.status === 200 ? (res.body.result ?? 'missing result') : `HTTP ${res.status} ${res.code ?? ''}`;
    results.set(id, [...(results.get(id) ?? []), result]);
  });
  return results;
}

/** Runs one case on a fresh hold/order and checks its rules. */
async function runCase(ctx: RunContext<'webhook-storm'>, s: State, vu: Vu, name: string, c: StormCase): Promise<void> {
  const hold = await placeHold(ctx.engine, vu.token, s.productId, 1);
  if (hold.status !== 201) return;
  const target = { hold_id: hold.body.id, order_id: undefined as string | undefined, amount_minor: s.unitPrice, currency: s.currency };
  const convert = async () => {
    const order = await createOrder(ctx.engine, vu.token, hold.body.id);
    const ok = ctx.rules.check(RULES.converted, order.status === 201 || order.status === 200, () => `${name}: ${order.status} ${order.code ?? ''}`);
    return ok ? order.body : undefined;
  };
  let order = c.before_order ? undefined : await convert();
  if (!c.before_order && !order) return;

  const firstEvents: PaymentEvent[] = [];
  for (const [i, types] of c.steps.entries()) {
    const events = types.map((type, j) => paymentEvent(`evt_${ctx.runId}_${vu.id}_${vu.iter}_${i}_${j}`, type, { ...target, order_id: order?.id }));
    if (i === 0) firstEvents.push(...events);
    const results = await deliverStep(ctx, events);
    const deferrable = c.before_order && i === 0;
    for (const [eventId, got] of results) {
      const effects = got.filter((r) => r === 'applied' || r === 'ignored' || (deferrable && r === 'deferred')).length;
      const duplicates = got.filter((r) => r === 'duplicate').length;
      ctx.rules.check(RULES.effect, effects === 1 && duplicates === got.length - 1, () => `${name} ${eventId}: ${got.join(',')}`);
    }
    if (deferrable) {
      order = await convert();
      if (!order) return;
    }
  }
  if (!order) return;

  if (c.replay_conflict) {
    const first = firstEvents[0]!;
    const res = await sendPaymentEvent(ctx.engine, { ...first, amount_minor: first.amount_minor + 1 }, ['422 idempotency_key_reused']);
    ctx.rules.check(RULES.conflict, res.expected, () => `${name}: ${res.status} ${res.code ?? JSON.stringify(res.body)}`);
  }
  const status = await settleOrder(ctx, ledgerOrder(order, vu.token));
  if (status !== undefined) {
    ctx.rules.check(RULES.final, c.final_status.includes(status), () => `${name} ${order.id}: ${status}, expected ${c.final_status.join('|')}`);
  }
}

/**
 * Payment providers retry, duplicate and reorder: each iteration takes a fresh order through one case
 * (duplicated success, failure after success, event before the order, ...) from scenarios.json.
 */
export const webhookStorm: Scenario<'webhook-storm', State> = {
  async setup(ctx) {
    const id = productId(ctx, 'item');
    const product = await createProduct(ctx.quiet, ctx.product, { id, stock: ctx.def.stock });
    Object.values(RULES).forEach((r) => ctx.rules.declare(r));
    return { productId: id, unitPrice: product.unit_price_minor, currency: product.currency, caseNames: Object.keys(ctx.def.cases) };
  },

  products: (s) => [s.productId],

  async iteration(ctx, s, vu) {
    // VUs walk the cases in lockstep offsets, so every case runs about equally often
    const name = s.caseNames[(vu.iter * ctx.vus + vu.id) % s.caseNames.length]!;
    await runCase(ctx, s, vu, name, ctx.def.cases[name]!);
    return true;
  },

  async verify() {
    // its rules were checked per event during the load; the common checks cover stock and Postgres
  },
};
