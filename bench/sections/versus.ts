import { compareAlternating, comparisonResult, holdRequest, type Comparison, type RequestShape } from '../lib/compare.js';
import { BENCH_ENGINE_ENV, createProduct } from '../lib/engine-api.js';
import { cpuPerRequest } from '../lib/cpu.js';
import { fmtInt, fmtRatio } from '../lib/format.js';
import type { BenchContext, Row, Section, SectionResult } from '../lib/types.js';
import { startEngineProcess, type EngineProcess } from '../../src/tools/engine-process.js';
import { createProducts, spreadRequest } from './spread.js';

/** Requests per engine and round in the CPU measurement. */
const CPU_REQUESTS = 20_000;
/** Rounds of it, the engines alternating: two were too few to tell apart engines that cost the same (README). */
const CPU_ROUNDS = 6;

/** Products the spread holds go to, a random one per request: a drop over many products. */
const SPREAD_PRODUCTS = 1_000;
/**
 * Products created at once on each engine: an older engine's product load could take a second pool
 * connection inside its transaction, so many creations at once could exhaust its pool and hang.
 */
const BASE_CREATE_PARALLEL = 4;

/** What the engines are compared on: each kind's requests, and the status every answer should have. */
const KINDS = [
  { kind: 'holds', label: 'holds', status: 201 },
  { kind: 'soldOut', label: 'sold out', status: 409 },
  { kind: 'spread', label: `holds over ${fmtInt(SPREAD_PRODUCTS)} products`, status: 201 },
] as const;

/** The hot-product holds, the sold-out requests and the spread holds against one engine, with the products they need. */
async function requests(engine: EngineProcess, users: number): Promise<Record<(typeof KINDS)[number]['kind'], RequestShape>> {
  const hot = await createProduct(engine, 'versus-hot', 10_000_000);
  const soldOut = await createProduct(engine, 'versus-soldout', 0);
  const spread = await createProducts(engine, 'versus-spread', SPREAD_PRODUCTS, BASE_CREATE_PARALLEL);
  return {
    holds: holdRequest(hot, engine.jwtSecret, users, true),
    soldOut: holdRequest(soldOut, engine.jwtSecret, users),
    spread: spreadRequest(spread, engine.jwtSecret, users),
  };
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
 * release with node_modules linked in), on the holds, sold-out and spread requests, with the plain
 * endpoint in the same rotation: a change that should not cost throughput is measured side by side,
 * alternating.
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
      const rows: Row[] = [];
      const runs: NonNullable<SectionResult['runs']> = [];
      const chart: NonNullable<SectionResult['chart']> = [];
      const results: Record<string, Comparison> = {};
      const cpu: Record<string, Record<string, number>> = {};
      for (const { kind, label, status } of KINDS) {
        ctx.log(`  ${label}`);
        results[kind] = await compareAlternating(ctx, [
          { name: 'plain', url: `${plain.url}/json`, request: mine[kind] },
          { name: 'this', url: `${engine.url}/api/holds`, request: mine[kind] },
          { name: 'base', url: `${base.url}/api/holds`, request: theirs[kind] },
        ]);
        ctx.log(`  ${label}: engine CPU per request, ${CPU_ROUNDS} × ${fmtInt(CPU_REQUESTS)} requests each, alternating`);
        cpu[kind] = await cpuPerRequest(
          [
            { name: 'this', url: `${engine.url}/api/holds`, request: mine[kind], pid: engine.pid },
            { name: 'base', url: `${base.url}/api/holds`, request: theirs[kind], pid: base.pid },
          ],
          ctx.opts.connections,
          CPU_REQUESTS,
          CPU_ROUNDS,
        );
        const result = comparisonResult(results[kind]!, { subject: 'this', expectedStatus: status, chartTitle: `${label}: this, base, plain` });
        rows.push(...versusRows(label, results[kind]!, cpu[kind]!), ...result.rows);
        runs.push(...(result.runs ?? []));
        chart.push(...(result.chart ?? []));
      }
      return {
        rows,
        runs,
        chart,
        notes: [
          `versus: base = ${ctx.opts.base}; both engines NODE_ENV=production, HOLD_TTL_MS=${BENCH_ENGINE_ENV.HOLD_TTL_MS}, same Redis and Postgres; ` +
            `the spread holds go to a random one of ${fmtInt(SPREAD_PRODUCTS)} products per request (the plain endpoint gets the same requests).`,
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
