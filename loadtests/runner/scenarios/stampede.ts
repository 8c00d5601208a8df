import * as steps from '../../steps/stampede.js';
import type { StampedeState } from '../../steps/stampede.js';
import { unitsTaken } from '../../steps/rules.js';
import type { Scenario } from '../context.js';

interface State extends StampedeState {
  won: number;
  soldOut: number;
}

/** loadtests/steps/stampede.js, with the holds won and the customers told "sold out" counted across VUs. */
export const stampede: Scenario<'stampede', State> = {
  async setup(ctx) {
    const s = await steps.setup(ctx.admin, ctx);
    steps.LOAD_RULES.forEach((r) => ctx.rules.declare(r));
    ctx.log(`product ${s.productId}: ${ctx.def.stock} units, sale opens in ${ctx.def.opens_in_s}s`);
    return { ...s, won: 0, soldOut: 0 };
  },

  products: (s) => [s.productId],

  /** Customers have the product page open when the sale starts (this also opens their connections). */
  async prepare(ctx, s) {
    await ctx.admin.getProduct(s.productId);
  },

  async iteration(ctx, s, step) {
    const outcome = await steps.attempt(step, ctx.def, s);
    if (outcome === 'won') s.won += 1;
    if (outcome === 'sold_out') s.soldOut += 1;
    return outcome === 'retry';
  },

  async verify(ctx, s) {
    const { checks, def } = ctx;
    checks.add(`exactly ${s.winnable} holds won`, s.won === s.winnable, `${s.won} won, ${s.soldOut} told sold out`);
    checks.add('every customer got an answer', s.won + s.soldOut === ctx.vus, `${s.won + s.soldOut} of ${ctx.vus}`);
    const { stock } = await ctx.admin.adminProduct(s.productId);
    const taken = unitsTaken(stock, s.won * def.qty);
    checks.add('held stock = units won (no oversell)', taken.ok, taken.detail);
  },
};
