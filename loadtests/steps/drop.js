// drop: a sale opens at a set time on many products while thousands of customers (one per VU) wait on
// their product's page, reloading it; impatient ones also ask for a hold before the opening (refused:
// 409 sale_not_started). At the opening they race for holds; the winners check out (some abandon, some
// payments fail), the rest are told sold out. 429s are waited out by the API client.
import { EXPECT } from './api.js';
import { checkOut, createRunProduct, holdKey, holdOnOpening, randomInt } from './flows.js';
import { RULES } from './rules.js';

/**
 * @typedef {import('./types.js').StepContext} StepContext
 * @typedef {import('./types.js').DropDef} DropDef
 * @typedef {object} DropState
 * @property {string[]} productIds
 * @property {number} opensAt ms since the epoch
 * @typedef {'waiting' | 'retry' | 'won' | 'sold_out'} DropStep `waiting` and `retry`: the customer goes on
 */

/** Rules checked during the load. */
export const LOAD_RULES = [RULES.closedBeforeOpening, RULES.notEarly, RULES.processed, RULES.status];

/**
 * Answers that arrive this long before the opening by the runner's clock are judged as "before the
 * opening"; the engine decides by Redis's clock, which may be a little off from the runner's.
 */
export const CLOCK_MARGIN_MS = 250;

/**
 * The products, all on sale `opens_in_s` from now.
 * @param {import('./api.js').EngineApi} admin
 * @param {import('./types.js').RunInfo<'drop'>} run
 * @returns {Promise<DropState>}
 */
export async function setup(admin, run) {
  const opensAt = Date.now() + run.def.opens_in_s * 1000;
  const sale_starts_at = new Date(opensAt).toISOString();
  const products = await Promise.all(Array.from({ length: run.def.products }, (_, i) => createRunProduct(admin, run, `p${i + 1}`, { sale_starts_at })));
  return { productIds: products.map((p) => p.id), opensAt };
}

/**
 * The product customer `vuId` wants (customers are spread evenly).
 * @param {DropState} s
 * @param {number} vuId
 */
export const productOf = (s, vuId) => /** @type {string} */ (s.productIds[(vuId - 1) % s.productIds.length]);

/**
 * How many of `vus` customers want product number `i` (0-based), spread as `productOf` does.
 * @param {number} i
 * @param {number} vus
 * @param {number} products
 */
export const customersOf = (i, vus, products) => Math.floor(vus / products) + (i < vus % products ? 1 : 0);

/**
 * Holds the customers must win between them: on every product, one per customer or until its stock is gone.
 * @param {DropDef} def
 * @param {number} vus
 */
export const winnable = (def, vus) =>
  Array.from({ length: def.products }, (_, i) => Math.min(customersOf(i, vus, def.products), Math.floor(def.stock / def.qty))).reduce((a, b) => a + b, 0);

/**
 * Whether customer `vuId` is one of the impatient ones (a fixed share, spread over the VUs by a hash).
 * @param {number} vuId
 * @param {number} share
 */
const impatient = (vuId, share) => (Math.imul(vuId, 2654435761) >>> 0) / 2 ** 32 < share;

/**
 * Before the opening: a wait until the next reload or the opening, whichever comes first (so customers
 * arrive spread out, as they do), then, unless the sale has opened meanwhile (the customer goes for the
 * hold at once), the product page; an impatient customer also asks for a hold.
 * @param {StepContext} ctx
 * @param {DropDef} def
 * @param {DropState} s
 * @param {string} productId
 */
async function waitForOpening(ctx, def, s, productId) {
  await ctx.sleep(Math.min(s.opensAt - Date.now(), randomInt(def.poll_ms[0], def.poll_ms[1])));
  if (Date.now() >= s.opensAt) return;
  const early = s.opensAt - CLOCK_MARGIN_MS;
  if (impatient(ctx.vu.id, def.early_share) && Date.now() < early) {
    // the key of the real try: a hold this placed after all (answered past the opening) is the one that try replays
    const res = await ctx.api.placeHold(ctx.vu.token, productId, def.qty, { idempotencyKey: holdKey(ctx), expect: [...EXPECT.hold, '409 sale_not_started'] });
    if (Date.now() < early) ctx.rules.check(RULES.closedBeforeOpening, res.code === 'sale_not_started', () => `${productId}: hold answered ${res.status} ${res.code ?? ''}`);
  }
  const page = await ctx.api.getProduct(productId);
  if (page.status === 200 && Date.now() < early) {
    ctx.rules.check(RULES.closedBeforeOpening, page.body.available === def.stock, () => `${productId}: ${page.body.available} of ${def.stock} available before the opening`);
  }
}

/**
 * One step of a customer's drop: before the opening a look at the page (see `waitForOpening`), then a
 * try for a hold; with a hold, the checkout.
 * @param {StepContext} ctx
 * @param {DropDef} def
 * @param {DropState} s
 * @returns {Promise<DropStep>}
 */
export async function step(ctx, def, s) {
  const productId = productOf(s, ctx.vu.id);
  if (Date.now() < s.opensAt) {
    await waitForOpening(ctx, def, s, productId);
    return 'waiting';
  }
  const tried = await holdOnOpening(ctx, { productId, qty: def.qty, opensAt: s.opensAt, retryMs: def.retry_ms });
  if (tried.outcome !== 'won') return tried.outcome;
  await checkOut(ctx, tried.hold, def.flow);
  return 'won';
}
