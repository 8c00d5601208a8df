import { randomBytes } from 'node:crypto';
import { compareAlternating, comparisonResult, type RequestShape } from '../lib/compare.js';
import { fmtInt } from '../lib/format.js';
import type { Section } from '../lib/types.js';
import type { CreateProductBody } from '../../src/contract.js';
import type { EngineProcess } from '../../src/tools/engine-process.js';

/** A waiting-room product whose line is open and admits nobody (no stock): joins and polls only. */
async function queueProduct(engine: EngineProcess): Promise<string> {
  const id = `bench-queue-${randomBytes(3).toString('hex')}`;
  const res = await fetch(`${engine.url}/api/admin/products`, {
    method: 'POST',
    headers: { authorization: `Bearer ${engine.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ id, name: 'bench queue', unit_price_minor: 1999, currency: 'EUR', stock: 0, admission: 'queue' } satisfies CreateProductBody),
  });
  if (!res.ok) throw new Error(`creating the queue product: ${res.status} ${await res.text()}`);
  return id;
}

/**
 * The waiting room's two customer requests against the plain endpoint: joining (a ticket per customer,
 * then the same ticket again) and polling it (answered from the process's view of the line).
 */
export const queueSection: Section = {
  name: 'queue',
  title: 'Waiting room: joins and polls',
  async run(ctx) {
    const [engine, plain] = await Promise.all([ctx.engine(), ctx.plain()]);
    const productId = await queueProduct(engine);
    const auth = { jwtSecret: engine.jwtSecret, users: ctx.opts.users };
    const plainRequest: RequestShape = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', auth };
    const join: RequestShape = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}', auth };
    const poll: RequestShape = { method: 'GET', auth };
    const path = `/api/products/${productId}/queue`;
    ctx.log('  joins');
    const joins = await compareAlternating(ctx, [
      { name: 'plain', url: `${plain.url}/json`, request: plainRequest },
      { name: 'engine', url: `${engine.url}${path}`, request: join },
    ]);
    ctx.log('  polls');
    const polls = await compareAlternating(ctx, [
      { name: 'plain', url: `${plain.url}/json`, request: plainRequest },
      { name: 'engine', url: `${engine.url}${path}`, request: poll },
    ]);
    // the first round of joins creates tickets (201), the rest answer them again (200)
    const joined = comparisonResult(joins, { expectedStatus: 200, chartTitle: 'queue joins' });
    const polled = comparisonResult(polls, { expectedStatus: 200, chartTitle: 'queue polls' });
    const label = (what: string, rows: typeof joined.rows) => rows.map((r) => ({ ...r, metric: `${what}: ${r.metric}` }));
    return {
      rows: [...label('joins', joined.rows), ...label('polls', polled.rows)],
      runs: [...(joined.runs ?? []), ...(polled.runs ?? [])],
      chart: [...(joined.chart ?? []), ...(polled.chart ?? [])],
      notes: [
        `queue: a waiting room with stock 0 (nobody is admitted), ${fmtInt(ctx.opts.users)} customers round robin; ` +
          'the first join of each is a 201, later ones 200; the plain endpoint gets POST /json {} for both.',
      ],
      raw: { joins, polls },
    };
  },
};
