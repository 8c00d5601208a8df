// soak: a steady mixed load (browse, check out, hold and release) for a long time; latency and the
// engine's memory must stay flat (the first interval after warm-up against the last).
import { checkoutFlow, createRunProduct, holdAndReleaseFlow, think } from './flows.js';
import { RULES } from './rules.js';

/**
 * @typedef {import('./types.js').SoakDef} SoakDef
 * @typedef {import('./types.js').SoakMix} SoakMix
 * @typedef {{ productId: string }} SoakState
 */

/** Rules checked during the load. */
export const LOAD_RULES = [RULES.processed, RULES.status, RULES.released];

/**
 * @param {import('./api.js').EngineApi} admin
 * @param {import('./types.js').RunInfo<'soak'>} run
 * @returns {Promise<SoakState>}
 */
export async function setup(admin, run) {
  return { productId: (await createRunProduct(admin, run, 'item')).id };
}

/**
 * Interval length: the configured one, but at least five intervals per run so first and last can be compared.
 * @param {number} intervalS
 * @param {number} durationMs
 */
export const intervalMs = (intervalS, durationMs) => Math.min(intervalS * 1000, Math.max(1000, Math.floor(durationMs / 5)));

/**
 * A flow drawn by its weight in the mix.
 * @param {SoakMix} mix
 * @returns {keyof SoakMix}
 */
function pick(mix) {
  const entries = /** @type {[keyof SoakMix, number][]} */ (Object.entries(mix));
  let r = Math.random() * entries.reduce((n, [, w]) => n + w, 0);
  for (const [name, w] of entries) {
    r -= w;
    if (r < 0) return name;
  }
  return 'browse';
}

/**
 * @param {import('./types.js').StepContext} ctx
 * @param {SoakDef} def
 * @param {SoakState} s
 */
export async function iteration(ctx, def, s) {
  const flow = pick(def.mix);
  if (flow === 'browse') await ctx.api.getProduct(s.productId);
  else if (flow === 'checkout') await checkoutFlow(ctx, s.productId, def.flow);
  else await holdAndReleaseFlow(ctx, s.productId, def.flow.think_ms);
  await think(ctx, def.think_ms);
}
