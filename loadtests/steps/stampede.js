// stampede: every VU is one customer trying to get one hold of a small stock the moment the sale opens.
// It fires before the start (409 sale_not_started), retries every `retry_ms` (or as Retry-After says),
// and stops once it has a hold or the product is sold out. A 429 is waited out by the API client.
import { createRunProduct, holdOnOpening } from './flows.js';
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
  const { outcome } = await holdOnOpening(ctx, { productId: s.productId, qty: def.qty, opensAt: s.opensAt, retryMs: def.retry_ms });
  return outcome;
}
