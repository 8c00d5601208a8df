import { adminProduct, createProduct, EXPECT, getProduct, placeHold } from '../../lib/engine-api.js';
import { productId, type RunContext, type Scenario } from '../context.js';
import type { Vu } from '../vus.js';

interface State {
  productId: string;
  opensAt: number;
  /** holds a customer can win: min(users, stock / qty) */
  winnable: number;
  won: number;
  soldOut: number;
}

const RULE_NOT_EARLY = 'no hold before the sale opens';

/**
 * Every VU is one customer trying to get one hold of a small stock the moment the sale opens: it fires
 * before the start (409 sale_not_started), retries every `retry_ms`, and stops once it has a hold or the
 * product is sold out.
 */
export const stampede: Scenario<'stampede', State> = {
  async setup(ctx) {
    const { def } = ctx;
    const opensAt = Date.now() + def.opens_in_s * 1000;
    const id = productId(ctx, 'drop');
    await createProduct(ctx.quiet, ctx.product, { id, stock: def.stock, sale_starts_at: new Date(opensAt).toISOString() });
    ctx.rules.declare(RULE_NOT_EARLY);
    ctx.log(`product ${id}: ${def.stock} units, sale opens in ${def.opens_in_s}s`);
    return { productId: id, opensAt, winnable: Math.min(ctx.vus, Math.floor(def.stock / def.qty)), won: 0, soldOut: 0 };
  },

  products: (s) => [s.productId],

  /** Customers have the product page open when the sale starts (this also opens their connections). */
  async prepare(ctx, s) {
    await getProduct(ctx.quiet, s.productId);
  },

  async iteration(ctx, s, vu: Vu) {
    const res = await placeHold(ctx.engine, vu.token, s.productId, ctx.def.qty, {
      idempotencyKey: `${ctx.runId}-${vu.id}`,
      expect: [...EXPECT.hold, '409 sale_not_started'],
    });
    if (res.status === 201) {
      s.won += 1;
      ctx.rules.check(RULE_NOT_EARLY, Date.parse(res.body.created_at) >= s.opensAt, () => `${res.body.id} created ${res.body.created_at}`);
      return false;
    }
    if (res.code === 'insufficient_stock') {
      s.soldOut += 1;
      return false;
    }
    const retryAfterS = Number(res.headers['retry-after']);
    const base = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : ctx.def.retry_ms;
    await ctx.stop.sleep(base * (0.5 + Math.random()));
    return true;
  },

  async verify(ctx: RunContext<'stampede'>, s) {
    const { checks, def } = ctx;
    checks.add(`exactly ${s.winnable} holds won`, s.won === s.winnable, `${s.won} won, ${s.soldOut} told sold out`);
    checks.add('every customer got an answer', s.won + s.soldOut === ctx.vus, `${s.won + s.soldOut} of ${ctx.vus}`);
    const { stock } = await adminProduct(ctx.quiet, s.productId);
    const units = s.won * def.qty;
    checks.add(
      'held stock = units won (no oversell)',
      stock.held + stock.pending_payment + stock.sold === units && stock.available === stock.total - units,
      `won ${units} units; engine: held ${stock.held}, pending ${stock.pending_payment}, sold ${stock.sold}, available ${stock.available}`,
    );
  },
};
