import { fmtInt, fmtLatencies, fmtRatio } from './format.js';
import { runLoad } from './processes.js';
import { medianRun, summarize, unexpected, type RunSummary } from './summary.js';
import type { BenchContext, LabeledRun, LoadSpec, Row, SectionResult } from './types.js';

/** The request to send; the same one goes to the plain endpoint and to the engine. */
export type RequestShape = Omit<LoadSpec, 'url' | 'connections' | 'duration' | 'amount'>;

type Target = 'plain' | 'engine';

export interface Comparison {
  runs: Record<Target, RunSummary[]>;
  median: Record<Target, RunSummary>;
  /** engine req/s / plain req/s, medians */
  ratio: number;
}

const fmtRun = (r: RunSummary) =>
  `${fmtInt(r.rps)} req/s, p50/p97.5/p99 ${fmtLatencies(r)}, non-2xx ${r.non2xx}, errors ${r.errors}`;

/**
 * Warms both servers up, then alternates measured runs (plain, engine, plain, engine, ...) so that
 * background noise hits both alike. The plain server gets the same request on `/json`.
 */
export async function compareWithPlain(ctx: BenchContext, request: RequestShape, enginePath: string): Promise<Comparison> {
  const [engine, plain] = await Promise.all([ctx.engine(), ctx.plain()]);
  const urls: Record<Target, string> = { plain: `${plain.url}/json`, engine: `${engine.url}${enginePath}` };
  const { connections, warmup, duration, runs } = ctx.opts;
  const load = async (target: Target, seconds: number) =>
    summarize(await runLoad({ ...request, url: urls[target], connections, duration: seconds }));

  ctx.log(`  warm-up ${warmup} s each`);
  for (const target of ['plain', 'engine'] as const) await load(target, warmup);
  const measured: Record<Target, RunSummary[]> = { plain: [], engine: [] };
  for (let i = 1; i <= runs; i++) {
    for (const target of ['plain', 'engine'] as const) {
      const r = await load(target, duration);
      measured[target].push(r);
      ctx.log(`  ${target} #${i}: ${fmtRun(r)}`);
    }
  }
  const median = { plain: medianRun(measured.plain), engine: medianRun(measured.engine) };
  return { runs: measured, median, ratio: median.engine.rps / median.plain.rps };
}

export interface ComparisonTargets {
  /** the status every engine response should have */
  expectedStatus: number;
  /** engine req/s must be at least this times plain's */
  minRatio: number;
  /** engine p99 must be at most this, in ms */
  maxP99Ms?: number;
}

/** The summary rows and the detail runs of a comparison. */
export function comparisonResult(c: Comparison, t: ComparisonTargets, notes: string[] = []): SectionResult {
  const { plain, engine } = c.median;
  const n = c.runs.engine.length;
  const rows: Row[] = [
    {
      metric: `req/s (median of ${n})`,
      value: fmtInt(engine.rps),
      baseline: fmtInt(plain.rps),
      ratio: fmtRatio(c.ratio),
      target: `≥ ${t.minRatio.toFixed(2)}× plain`,
      pass: c.ratio >= t.minRatio,
    },
    {
      metric: 'latency p50 / p97.5 / p99 (medians)',
      value: fmtLatencies(engine),
      baseline: fmtLatencies(plain),
      ...(t.maxP99Ms === undefined ? {} : { target: `p99 ≤ ${t.maxP99Ms} ms`, pass: engine.p99 <= t.maxP99Ms }),
    },
    {
      metric: `responses ≠ ${t.expectedStatus} + errors (all runs)`,
      value: `${fmtInt(unexpected(engine, t.expectedStatus))} of ${fmtInt(engine.requests)}`,
      baseline: `${fmtInt(unexpected(plain, 201))} of ${fmtInt(plain.requests)}`,
    },
  ];
  const runs: LabeledRun[] = c.runs.engine.flatMap((_, i) =>
    (['plain', 'engine'] as const).map((target) => ({ label: `${target} #${i + 1}`, ...c.runs[target][i]! })),
  );
  return { rows, runs, notes, raw: c };
}
