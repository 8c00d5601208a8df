import * as steps from '../../steps/drop.js';
import type { DropState } from '../../steps/drop.js';
import type { Scenario } from '../context.js';

interface State extends DropState {
  /** holds won and customers told sold out, per product */
  won: Map<string, number>;
  soldOut: number;
}

/**
 * loadtests/steps/drop.js, with the race's results counted across VUs: every customer gets an answer,
 * every unit finds a customer while there are more customers than units, and no product sells more than
 * its stock as customers saw it (the engine's counters are the common checks').
 */
export const drop: Scenario<'drop', State> = {
  async setup(ctx) {
    if (ctx.durationMs <= ctx.def.opens_in_s * 1000) throw new Error(`drop: the run (${ctx.durationMs / 1000}s) must last longer than the wait for the opening (${ctx.def.opens_in_s}s)`);
    const s = await steps.setup(ctx.admin, ctx);
    steps.LOAD_RULES.forEach((r) => ctx.rules.declare(r));
    ctx.log(`${s.productIds.length} products, ${ctx.def.stock} units each, on sale in ${ctx.def.opens_in_s}s; ${ctx.vus} customers`);
    return { ...s, won: new Map(s.productIds.map((id) => [id, 0])), soldOut: 0 };
  },

  products: (s) => s.productIds,

  async iteration(ctx, s, step) {
    const outcome = await steps.step(step, ctx.def, s);
    if (outcome === 'won') {
      const id = steps.productOf(s, step.vu.id);
      s.won.set(id, (s.won.get(id) ?? 0) + 1);
    }
    if (outcome === 'sold_out') s.soldOut += 1;
    return outcome === 'waiting' || outcome === 'retry';
  },

  async verify(ctx, s) {
    const { checks, def, ledger, vus } = ctx;
    const won = [...s.won.values()].reduce((a, b) => a + b, 0);
    checks.add('every customer got an answer', won + s.soldOut === vus, `${won} won, ${s.soldOut} told sold out, of ${vus}`);
    const short = s.productIds.filter((id, i) => (s.won.get(id) ?? 0) < Math.min(steps.customersOf(i, vus, def.products), Math.floor(def.stock / def.qty)));
    checks.add(
      'every unit found a customer (holds won >= min(customers, stock / qty) per product)',
      short.length === 0,
      short.length === 0 ? `${won} holds on ${s.productIds.length} products` : `short: ${short.map((id) => `${id} ${s.won.get(id)}`).join(', ')}`,
    );
    const oversold = s.productIds.filter((id) => ledger.paidUnits(id) > def.stock);
    checks.add(
      'no product oversold (units customers saw paid <= stock)',
      oversold.length === 0,
      oversold.length === 0 ? `at most ${Math.max(...s.productIds.map((id) => ledger.paidUnits(id)))} of ${def.stock} per product` : oversold.map((id) => `${id}: ${ledger.paidUnits(id)}`).join(', '),
    );
  },
};
