import { compareAlternating, comparisonResult, holdRequest } from '../lib/compare.js';
import { createProduct } from '../lib/engine-api.js';
import { fmtInt } from '../lib/format.js';
import type { Section } from '../lib/types.js';

const STOCK = 10_000_000;
/** The engine should take holds at least this many times faster than a row lock on the product. */
const MIN_RATIO = 25;


/**
 * The engine against the row-lock baseline (`rowlock-server.ts`: one Postgres transaction per hold
 * with SELECT ... FOR UPDATE on the product), same hot-product load as the holds section.
 */
export const rowLockSection: Section = {
  name: 'rowlock',
  title: 'POST holds vs a Postgres row lock',
  async run(ctx) {
    const [engine, rowlock] = await Promise.all([ctx.engine(), ctx.rowlock()]);
    const [engineProduct, rowlockProduct] = await Promise.all([createProduct(engine, 'rowlock-cmp', STOCK), rowlock.createProduct(STOCK)]);
    const { users } = ctx.opts;
    const c = await compareAlternating(ctx, [
      { name: 'row-lock', url: `${rowlock.url}/holds`, request: holdRequest(rowlockProduct, rowlock.jwtSecret, users) },
      { name: 'engine', url: `${engine.url}/api/holds`, request: holdRequest(engineProduct, engine.jwtSecret, users, true) },
    ]);
    const ledger = await rowlock.ledger(rowlockProduct);
    const result = comparisonResult(c, { baseline: 'row-lock', expectedStatus: 201, minRatio: MIN_RATIO, chartTitle: 'holds vs row lock' }, [
      `rowlock: the baseline is a Hono + postgres server in its own process and database, pool size ${rowlock.poolSize}; per hold one ` +
        'transaction: SELECT stock ... FOR UPDATE, check, UPDATE products SET stock = stock - qty, INSERT INTO holds ... RETURNING *. ' +
        `Same JWT verification (JwtVerifier), same hot product (stock ${fmtInt(STOCK)}), ${fmtInt(users)} users; ` +
        'the engine also gets a UUID Idempotency-Key per request, the baseline none.',
    ]);
    const consistent = ledger.stock + ledger.heldQty === STOCK;
    result.rows.push({
      metric: 'row-lock ledger: stock + held = initial stock',
      value: `${fmtInt(ledger.holds)} holds`,
      baseline: `${fmtInt(ledger.stock)} + ${fmtInt(ledger.heldQty)} = ${fmtInt(ledger.stock + ledger.heldQty)}`,
      target: `= ${fmtInt(STOCK)}`,
      pass: consistent,
    });
    return { ...result, raw: { ...(result.raw as object), rowlockLedger: ledger, poolSize: rowlock.poolSize } };
  },
};
