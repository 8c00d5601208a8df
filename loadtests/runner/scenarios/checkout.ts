import * as steps from '../../steps/checkout.js';
import type { CheckoutState } from '../../steps/checkout.js';
import { CHECKS, drained } from '../../steps/rules.js';
import type { RunContext, Scenario } from '../context.js';
import { sleep } from '../stop-signal.js';

interface State extends CheckoutState {
  outcomes: Map<string, number>;
}

/**
 * A sample of what customers abandoned must end `expired`: holds or orders read back as their owners.
 * @param read the status of one abandoned hold or order
 */
async function sampleExpired<T>(ctx: RunContext<'checkout'>, kind: 'hold' | 'order', abandoned: T[], read: (item: T) => Promise<string>) {
  const items = abandoned.slice(0, ctx.def.expiry_sample);
  if (items.length === 0) return { skip: `no ${kind} was abandoned in this run` };
  const bad = (await Promise.all(items.map(read))).filter((st) => st !== 'expired');
  return { ok: bad.length === 0, detail: `${items.length} sampled${bad.length ? `; not expired: ${bad.join(', ')}` : ''}` };
}

/** loadtests/steps/checkout.js; after the load, abandoned holds and orders must expire (the ledger samples them). */
export const checkout: Scenario<'checkout', State> = {
  async setup(ctx) {
    const s = await steps.setup(ctx.admin, ctx);
    steps.LOAD_RULES.forEach((r) => ctx.rules.declare(r));
    return { ...s, outcomes: new Map() };
  },

  products: (s) => [s.productId],

  async iteration(ctx, s, step) {
    const outcome = await steps.iteration(step, ctx.def, s);
    s.outcomes.set(outcome, (s.outcomes.get(outcome) ?? 0) + 1);
    return true;
  },

  async verify(ctx, s) {
    const { checks, ledger, admin } = ctx;
    ctx.log(`flows: ${JSON.stringify(Object.fromEntries(s.outcomes))}`);
    if (ctx.drainMs <= 0) {
      checks.skip(CHECKS.drained, 'the engine was not started here (TTLs unknown); pass --drain <s> to wait for expiry');
      return;
    }
    await checks.run(CHECKS.drained, () => drained(admin, [s.productId], ctx.drainMs, sleep));
    await checks.run('abandoned orders end expired', () =>
      sampleExpired(ctx, 'order', ledger.abandonedOrders, async (o) => (await admin.getOrder(o.token, o.id)).body.status),
    );
    await checks.run('abandoned holds end expired', () =>
      sampleExpired(ctx, 'hold', ledger.abandonedHolds, async (h) => (await admin.getHold(h.token, h.id)).body.status),
    );
  },
};
