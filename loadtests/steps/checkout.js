// checkout: customers check out with think times; some abandon their hold or their payment (so the
// expiry jobs and the sweep run), some payments fail. After the load, abandoned holds and orders must expire.
import { checkoutFlow, createRunProduct } from './flows.js';
import { RULES } from './rules.js';

/** @typedef {{ productId: string }} CheckoutState */

/** Rules checked during the load. */
export const LOAD_RULES = [RULES.processed, RULES.status];

/**
 * @param {import('./api.js').EngineApi} admin
 * @param {import('./types.js').RunInfo<'checkout'>} run
 * @returns {Promise<CheckoutState>}
 */
export async function setup(admin, run) {
  return { productId: (await createRunProduct(admin, run, 'item')).id };
}

/**
 * @param {import('./types.js').StepContext} ctx
 * @param {import('./types.js').CheckoutDef} def
 * @param {CheckoutState} s
 */
export const iteration = (ctx, def, s) => checkoutFlow(ctx, s.productId, def.flow);
