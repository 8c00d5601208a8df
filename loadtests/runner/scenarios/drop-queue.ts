import * as steps from '../../steps/drop-queue.js';
import type { Crowd, DropQueueState, Tally } from '../../steps/drop-queue.js';
import type { Scenario } from '../context.js';

interface State extends DropQueueState {
  /** one for all VUs: what the whole crowd did */
  tally: Tally;
  /** each VU's customers, made on its first iteration */
  crowds: Map<number, Crowd>;
}

/**
 * loadtests/steps/drop-queue.js, with the crowd's tally shared across VUs: every customer ends in a final
 * status, nothing is oversold, and on a waiting room's product a customer told sold out was told the truth
 * (the whole stock sold). No hold without admission is checked per hold by the steps; the engine's counters
 * and Postgres by the common checks.
 */
export const dropQueue: Scenario<'drop-queue', State> = {
  async setup(ctx) {
    if (ctx.durationMs <= ctx.def.opens_in_s * 1000) throw new Error(`drop-queue: the run (${ctx.durationMs / 1000}s) must last longer than the wait for the opening (${ctx.def.opens_in_s}s)`);
    const s = await steps.setup(ctx.admin, ctx);
    steps.LOAD_RULES.forEach((r) => ctx.rules.declare(r));
    const { def } = ctx;
    ctx.log(`product ${s.productId} (${def.admission}): ${def.stock} units, on sale in ${def.opens_in_s}s; ${def.customers} customers arriving over ${def.arrivals_s}s, driven by ${ctx.vus} VUs`);
    return { ...s, tally: steps.newTally(), crowds: new Map() };
  },

  products: (s) => [s.productId],

  async iteration(ctx, s, step) {
    let crowd = s.crowds.get(step.vu.id);
    if (!crowd) {
      crowd = steps.crowd(step, ctx.def, s, ctx.vus, s.tally);
      s.crowds.set(step.vu.id, crowd);
    }
    return steps.step(step, ctx.def, s, crowd);
  },

  counts: ({ tally, opensAt }) => ({
    joins: tally.joins,
    polls: tally.polls,
    hold_attempts: tally.holdAttempts,
    holds: tally.holds,
    ...tally.final,
    last_answer_after_opening_ms: tally.lastAnswerAt === 0 ? 0 : Math.max(0, tally.lastAnswerAt - opensAt),
  }),

  async verify(ctx, s) {
    const { checks, def, ledger } = ctx;
    const { final } = s.tally;
    const ended = final.bought + final.admitted + final.expired + final.sold_out;
    checks.add(
      'every customer ended in a final status',
      ended === def.customers,
      `${ended} of ${def.customers}: bought ${final.bought}, held but did not pay ${final.admitted}, expired ${final.expired}, sold out ${final.sold_out}`,
    );
    const { stock } = await ctx.admin.adminProduct(s.productId);
    const paid = ledger.paidUnits(s.productId);
    checks.add('no oversell (sold <= stock, units customers saw paid <= stock)', stock.sold <= def.stock && paid <= def.stock, `sold ${stock.sold}, seen paid ${paid}, stock ${def.stock}`);
    if (def.admission !== 'queue') return;
    checks.add(
      'sold out only once the whole stock sold (nothing held or pending could come back)',
      final.sold_out === 0 || stock.sold === stock.total,
      `${final.sold_out} told sold out; sold ${stock.sold} of ${stock.total}`,
    );
  },
};
