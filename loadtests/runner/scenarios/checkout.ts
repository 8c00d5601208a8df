import { adminProduct, createProduct, getHold, getOrder } from '../../lib/engine-api.js';
import { productId, type RunContext, type Scenario } from '../context.js';
import { checkoutFlow, FLOW_RULES } from '../flows.js';
import { sleep } from '../stop-signal.js';

interface State {
  productId: string;
  outcomes: Map<string, number>;
}

/** Waits until nothing is held or pending any more (every abandoned hold and order expired). */
export async function drain(ctx: RunContext, productIds: string[]): Promise<{ ok: boolean; detail: string }> {
  const started = Date.now();
  const deadline = started + ctx.drainMs;
  for (;;) {
    const stocks = await Promise.all(productIds.map(async (id) => (await adminProduct(ctx.quiet, id)).stock));
    const held = stocks.reduce((n, s) => n + s.held, 0);
    const pending = stocks.reduce((n, s) => n + s.pending_payment, 0);
    if (held === 0 && pending === 0) return { ok: true, detail: `nothing held or pending after ${((Date.now() - started) / 1000).toFixed(1)}s` };
    if (Date.now() >= deadline) return { ok: false, detail: `after ${ctx.drainMs / 1000}s still held ${held}, pending ${pending}` };
    await sleep(250);
  }
}

/**
 * Customers check out with think times; some abandon their hold or their payment (so the expiry jobs and
 * the sweep run), some payments fail. After the load, abandoned holds and orders must expire.
 */
export const checkout: Scenario<'checkout', State> = {
  async setup(ctx) {
    const id = productId(ctx, 'item');
    await createProduct(ctx.quiet, ctx.product, { id, stock: ctx.def.stock });
    [FLOW_RULES.processed, FLOW_RULES.status].forEach((r) => ctx.rules.declare(r));
    return { productId: id, outcomes: new Map() };
  },

  products: (s) => [s.productId],

  async iteration(ctx, s, vu) {
    const outcome = await checkoutFlow(ctx, vu, s.productId, ctx.def.flow);
    s.outcomes.set(outcome, (s.outcomes.get(outcome) ?? 0) + 1);
    return true;
  },

  async verify(ctx, s) {
    const { checks, ledger } = ctx;
    ctx.log(`flows: ${JSON.stringify(Object.fromEntries(s.outcomes))}`);
    if (ctx.drainMs <= 0) {
      checks.skip('abandoned holds and orders expire', 'the engine was not started here (TTLs unknown); pass --drain <s> to wait for expiry');
      return;
    }
    await checks.run('abandoned holds and orders expire', () => drain(ctx, [s.productId]));
    const sample = ctx.def.expiry_sample;
    await checks.run('abandoned orders end expired', async () => {
      const orders = ledger.abandonedOrders.slice(0, sample);
      if (orders.length === 0) return { skip: 'no order was abandoned in this run' };
      const statuses = await Promise.all(orders.map(async (o) => (await getOrder(ctx.quiet, o.token, o.id)).body.status));
      const bad = statuses.filter((st) => st !== 'expired');
      return { ok: bad.length === 0, detail: `${orders.length} sampled${bad.length ? `; not expired: ${bad.join(', ')}` : ''}` };
    });
    await checks.run('abandoned holds end expired', async () => {
      const holds = ledger.abandonedHolds.slice(0, sample);
      if (holds.length === 0) return { skip: 'no hold was abandoned in this run' };
      const statuses = await Promise.all(holds.map(async (h) => (await getHold(ctx.quiet, h.token, h.id)).body.status));
      const bad = statuses.filter((st) => st !== 'expired');
      return { ok: bad.length === 0, detail: `${holds.length} sampled${bad.length ? `; not expired: ${bad.join(', ')}` : ''}` };
    });
  },
};
