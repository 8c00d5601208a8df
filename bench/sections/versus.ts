import { compareAlternating, comparisonResult, holdRequest, type Comparison } from '../lib/compare.js';
import { BENCH_ENGINE_ENV, createProduct } from '../lib/engine-api.js';
import { cpuPerRequest } from '../lib/cpu.js';
import { fmtInt, fmtRatio } from '../lib/format.js';
import type { BenchContext, Row, Section, SectionResult } from '../lib/types.js';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';

/** Requests per engine and round in the CPU measurement. */
const CPU_REQUESTS = 20_000;
const CPU_ROUNDS = 2;

/** The hot-product holds and the sold-out requests against one engine, with the products they need. */
async function requests(engine: EngineProcess, users: number) {
  const hot = await createProduct(engine, 'versus-hot', 10_000_000);
  const soldOut = await createProduct(engine, 'versus-soldout', 0);
  return { holds: holdRequest(hot, engine.jwtSecret, users, true), soldOut: holdRequest(soldOut, engine.jwtSecret, users) };
}

/** `this` against `base` in one alternating comparison: req/s and p99 as ratios. */
function versusRows(what: string, c: Comparison, cpu: Record<string, number>): Row[] {
  const [now, base] = [c.median.this!, c.median.base!];
  return [
    { metric: `${what}: engine CPU per request, µs, this vs base`, value: cpu.this!.toFixed(1), baseline: cpu.base!.toFixed(1), ratio: fmtRatio(cpu.this! / cpu.base!) },
    { metric: `${what}: req/s (median of ${c.runs.this!.length}), this vs base`, value: fmtInt(now.rps), baseline: fmtInt(base.rps), ratio: fmtRatio(now.rps / base.rps) },
    { metric: `${what}: p99 (median), this vs base`, value: `${now.p99} ms`, baseline: `${base.p99} ms`, ratio: fmtRatio(now.p99 / base.p99) },
  ];
}

/**
 * This checkout's engine against another checkout's (`--base DIR`, e.g. a `git worktree` of the last
 * release with node_modules linked in), on the holds and sold-out requests, with the plain endpoint in
 * the same rotation: a change that should not cost throughput is measured side by side, alternating.
 */
export const versusSection: Section = {
  name: 'versus',
  title: 'This engine against another checkout (--base)',
  unavailable: (opts) => (opts.base === undefined ? 'needs --base DIR, another checkout of the engine' : undefined),
  async run(ctx: BenchContext): Promise<SectionResult> {
    const [engine, plain] = await Promise.all([ctx.engine(), ctx.plain()]);
    ctx.log(`  starting the engine of ${ctx.opts.base}`);
    const base = await startEngineProcess({ mode: 'all', env: BENCH_ENGINE_ENV, root: ctx.opts.base! });
    try {
      const [mine, theirs] = await Promise.all([requests(engine, ctx.opts.users), requests(base, ctx.opts.users)]);
      const results: Record<string, Comparison> = {};
      const cpu: Record<string, Record<string, number>> = {};
      for (const kind of ['holds', 'soldOut'] as const) {
        ctx.log(`  ${kind}`);
        results[kind] = await compareAlternating(ctx, [
          { name: 'plain', url: `${plain.url}/json`, request: mine[kind] },
          { name: 'this', url: `${engine.url}/api/holds`, request: mine[kind] },
          { name: 'base', url: `${base.url}/api/holds`, request: theirs[kind] },
        ]);
        ctx.log(`  ${kind}: engine CPU per request, ${CPU_ROUNDS} × ${fmtInt(CPU_REQUESTS)} requests each, alternating`);
        cpu[kind] = await cpuPerRequest(
          [
            { name: 'this', url: `${engine.url}/api/holds`, request: mine[kind], pid: engine.pid },
            { name: 'base', url: `${base.url}/api/holds`, request: theirs[kind], pid: base.pid },
          ],
          ctx.opts.connections,
          CPU_REQUESTS,
          CPU_ROUNDS,
        );
      }
      const holds = comparisonResult(results.holds!, { subject: 'this', expectedStatus: 201, chartTitle: 'holds: this, base, plain' });
      const soldOut = comparisonResult(results.soldOut!, { subject: 'this', expectedStatus: 409, chartTitle: 'sold out: this, base, plain' });
      return {
        rows: [...versusRows('holds', results.holds!, cpu.holds!), ...holds.rows, ...versusRows('sold out', results.soldOut!, cpu.soldOut!), ...soldOut.rows],
        runs: [...(holds.runs ?? []), ...(soldOut.runs ?? [])],
        chart: [...(holds.chart ?? []), ...(soldOut.chart ?? [])],
        notes: [
          `versus: base = ${ctx.opts.base}; both engines NODE_ENV=production, HOLD_TTL_MS=${BENCH_ENGINE_ENV.HOLD_TTL_MS}, same Redis and Postgres.`,
          `versus: engine CPU per request = user + system time of each engine process over ${CPU_ROUNDS} × ${fmtInt(CPU_REQUESTS)} requests, ` +
            'the engines alternating; steadier than req/s on a shared machine.',
        ],
        raw: { results, cpuPerRequestUs: cpu },
      };
    } finally {
      await base.stop();
    }
  },
};
