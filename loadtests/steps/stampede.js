// stampede: every VU is one customer trying to get one hold of a small stock the moment the sale opens.
// It fires before the start (409 sale_not_started), retries every `retry_ms` (or as Retry-After says),
// and stops once it has a hold or the product is sold out.
import { EXPECT } from './api.js';
import { createRunProduct } from './flows.js';
import { RULES } from './rules.js';

/**
 * @typedef {import('./types.js').StepContext} StepContext
 * @typedef {import('./types.js').StampedeDef} StampedeDef
 * @typedef {object} StampedeState
 * @property {string} productId
 * @property {number} opensAt ms since the epoch
 * @property {number} winnable holds a customer can win: min(customers, stock / qty)
 */

/** Rules checked during the load. */
export const LOAD_RULES = [RULES.notEarly];

/**
 * The product, on sale `opens_in_s` from now.
 * @param {import('./api.js').EngineApi} admin
 * @param {import('./types.js').RunInfo<'stampede'>} run
 * @returns {Promise<StampedeState>}
 */
export async function setup(admin, run) {
  const opensAt = Date.now() + run.def.opens_in_s * 1000;
  const product = await createRunProduct(admin, run, 'drop', { sale_starts_at: new Date(opensAt).toISOString() });
  return { productId: product.id, opensAt, winnable: Math.min(run.vus, Math.floor(run.def.stock / run.def.qty)) };
}

/**
 * One try for a hold; after an answer that is not final it waits before saying `retry`.
 * @param {StepContext} ctx
 * @param {StampedeDef} def
 * @param {StampedeState} s
 * @returns {Promise<'won' | 'sold_out' | 'retry'>}
 */
export async function attempt(ctx, def, s) {
  const res = await ctx.api.placeHold(ctx.vu.token, s.productId, def.qty, {
    idempotencyKey: `${ctx.runId}-${ctx.vu.id}`,
    expect: [...EXPECT.hold, '409 sale_not_started'],
  });
  if (res.status === 201) {
    ctx.rules.check(RULES.notEarly, Date.parse(res.body.created_at) >= s.opensAt, () => `${res.body.id} created ${res.body.created_at}`);
    return 'won';
  }
  if (res.code === 'insufficient_stock') return 'sold_out';
  const retryAfterS = Number(res.headers['retry-after']);
  const base = Number.isFinite(retryAfterS) && retryAfterS > 0 ? retryAfterS * 1000 : def.retry_ms;
  await ctx.sleep(base * (0.5 + Math.random()));
  return 'retry';
}
