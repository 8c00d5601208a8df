import { compareWithPlain, comparisonResult, holdRequest } from '../lib/compare.js';
import { createProduct } from '../lib/engine-api.js';
import { fmtInt } from '../lib/format.js';
import type { Section } from '../lib/types.js';

/** Holds on one hot product, each request from one of many users with its own Idempotency-Key. */
export const holdsSection: Section = {
  name: 'holds',
  title: 'POST /api/holds, one hot product',
  async run(ctx) {
    const engine = await ctx.engine();
    const productId = await createProduct(engine, 'hot', 10_000_000);
    const c = await compareWithPlain(ctx, holdRequest(productId, engine.jwtSecret, ctx.opts.users, true), '/api/holds');
    return comparisonResult(c, { expectedStatus: 201, minRatio: 0.5, maxP99Ms: 10, chartTitle: 'holds, hot product' }, [
      `holds: stock 10,000,000, no per-user limit, ${fmtInt(ctx.opts.users)} users round robin, a UUID Idempotency-Key per request; ` +
        `the plain endpoint gets the same requests on /json.`,
    ]);
  },
};
