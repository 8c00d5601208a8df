import * as steps from '../../steps/webhook-storm.js';
import type { StormState } from '../../steps/webhook-storm.js';
import type { Scenario } from '../context.js';

/** loadtests/steps/webhook-storm.js; its rules are checked per event during the load, the common checks cover stock and Postgres. */
export const webhookStorm: Scenario<'webhook-storm', StormState> = {
  async setup(ctx) {
    const s = await steps.setup(ctx.admin, ctx);
    steps.LOAD_RULES.forEach((r) => ctx.rules.declare(r));
    return s;
  },

  products: (s) => [s.productId],

  async iteration(ctx, s, step) {
    await steps.iteration(step, ctx.def, s, ctx.vus);
    return true;
  },

  async verify() {},
};
