import { compareWithPlain, comparisonResult, holdRequest } from '../lib/compare.js';
import { createProduct } from '../lib/engine-api.js';
import type { Section } from '../lib/types.js';

/** The sold-out path: a product with stock 0, requests without Idempotency-Key, all answered 409. */
export const soldOutSection: Section = {
  name: 'soldout',
  title: 'POST /api/holds, sold out (409)',
  async run(ctx) {
    const engine = await ctx.engine();
    const productId = await createProduct(engine, 'soldout', 0);
    const c = await compareWithPlain(ctx, holdRequest(productId, engine.jwtSecret, ctx.opts.users), '/api/holds');
    return comparisonResult(c, { expectedStatus: 409, minRatio: 0.75, chartTitle: 'holds, sold out (409)' }, [
      'soldout: stock 0, no Idempotency-Key; every engine answer should be 409 insufficient_stock.',
    ]);
  },
};
