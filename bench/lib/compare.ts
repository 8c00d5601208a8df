import { fmtInt, fmtLatencies, fmtRatio, fmtTimes } from './format.js';
import { runLoad } from './processes.js';
import { medianRun, summarize, unexpected, type RunSummary } from './summary.js';
import type { BenchContext, LabeledRun, LoadSpec, Row, SectionResult } from './types.js';
import type { CreateHoldBody } from '../../src/contract.js';

/** The request to send to a target (the load options come from the bench options). */
export type RequestShape = Omit<LoadSpec, 'url' | 'connections' | 'duration' | 'amount'>;

/** POST a hold of one unit of `productId`, each request as one of `users` customers (JWT). */
export const holdRequest = (productId: string, jwtSecret: string, users: number, idempotencyKeys = false): RequestShape => ({
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ product_id: productId, qty: 1 } satisfies CreateHoldBody),
  auth: { jwtSecret, users },
  ...(idempotencyKeys ? { idempotencyKeys: true } : {}),
});

/** One server under load in a comparison. */
export interface LoadTarget {
  name: string;
  url: string;
  request: RequestShape;
}

export interface Comparison {
  /** target names, in the order their runs alternate */
  targets: string[];
  runs: Record<string, RunSummary[]>;
  median: Record<string, RunSummary>;
}

const fmtRun = (r: RunSummary) =>
  `${fmtInt(r.rps)} req/s, p50/p97.5/p99 ${fmtLatencies(r)}, non-2xx ${r.non2xx}, errors ${r.errors}`;

/**
 * The targets in the order of round `round`: each goes first in turn. (Measured always first, the same
 * engine came out a few per cent worse on this machine: bench/results/2026-12-04-versus-3ca0d52-*.md.)
 */
export const rotated = <T>(targets: readonly T[], round: number): T[] => {
  const k = round % targets.length;
  return [...targets.slice(k), ...targets.slice(0, k)];
};

/**
 * Warms every target up, then alternates measured runs (a, b, b, a, ...: each first in turn) so that
 * background noise on the machine hits all of them alike. Each run is autocannon in its own process.
 */
export async function compareAlternating(ctx: BenchContext, targets: LoadTarget[]): Promise<Comparison> {
  const { connections, warmup, duration, runs } = ctx.opts;
  const load = async (t: LoadTarget, seconds: number) =>
    summarize(await runLoad({ ...t.request, url: t.url, connections, duration: seconds }));

  ctx.log(`  warm-up ${warmup} s each`);
  for (const t of targets) await load(t, warmup);
  const measured: Record<string, RunSummary[]> = Object.fromEntries(targets.map((t) => [t.name, []]));
  for (let i = 1; i <= runs; i++) {
    for (const t of rotated(targets, i - 1)) {
      const r = await load(t, duration);
      measured[t.name]!.push(r);
      ctx.log(`  ${t.name} #${i}: ${fmtRun(r)}`);
    }
  }
  const median = Object.fromEntries(targets.map((t) => [t.name, medianRun(measured[t.name]!)]));
  return { targets: targets.map((t) => t.name), runs: measured, median };
}

/** The engine against the plain Hono endpoint, which gets the same request on `/json`. */
export async function compareWithPlain(ctx: BenchContext, request: RequestShape, enginePath: string): Promise<Comparison> {
  const [engine, plain] = await Promise.all([ctx.engine(), ctx.plain()]);
  return compareAlternating(ctx, [
    { name: 'plain', url: `${plain.url}/json`, request },
    { name: 'engine', url: `${engine.url}${enginePath}`, request },
  ]);
}

export interface ComparisonTargets {
  /** the target measured (default `engine`) and the one it is measured against (default `plain`) */
  subject?: string;
  baseline?: string;
  /** the status every response of the subject should have */
  expectedStatus: number;
  /** the same for the baseline (default 201) */
  baselineStatus?: number;
  /** subject req/s must be at least this times the baseline's (none: a measurement without a target) */
  minRatio?: number;
  /** subject p99 must be at most this, in ms */
  maxP99Ms?: number;
  /** heading of this comparison's bars in the chart */
  chartTitle: string;
}

/** The summary rows, the detail runs and the chart bars of a comparison. */
export function comparisonResult(c: Comparison, t: ComparisonTargets, notes: string[] = []): SectionResult {
  const subjectName = t.subject ?? 'engine';
  const baselineName = t.baseline ?? 'plain';
  const subject = c.median[subjectName]!;
  const baseline = c.median[baselineName]!;
  const ratio = subject.rps / baseline.rps;
  const n = c.runs[subjectName]!.length;
  const rows: Row[] = [
    {
      metric: `req/s (median of ${n}), ${subjectName} vs ${baselineName}`,
      value: fmtInt(subject.rps),
      baseline: fmtInt(baseline.rps),
      ratio: fmtRatio(ratio),
      ...(t.minRatio === undefined ? {} : { target: `≥ ${fmtTimes(t.minRatio)} ${baselineName}`, pass: ratio >= t.minRatio }),
    },
    {
      metric: 'latency p50 / p97.5 / p99 (medians)',
      value: fmtLatencies(subject),
      baseline: fmtLatencies(baseline),
      ...(t.maxP99Ms === undefined ? {} : { target: `p99 ≤ ${t.maxP99Ms} ms`, pass: subject.p99 <= t.maxP99Ms }),
    },
    {
      metric: `responses ≠ ${t.expectedStatus} + errors (all runs)`,
      value: `${fmtInt(unexpected(subject, t.expectedStatus))} of ${fmtInt(subject.requests)}`,
      baseline: `${fmtInt(unexpected(baseline, t.baselineStatus ?? 201))} of ${fmtInt(baseline.requests)}`,
    },
  ];
  const runs: LabeledRun[] = c.runs[subjectName]!.flatMap((_, i) =>
    c.targets.map((name) => ({ label: `${name} #${i + 1}`, ...c.runs[name]![i]! })),
  );
  const chart = [{ title: t.chartTitle, bars: c.targets.map((name) => ({ label: name, rps: c.median[name]!.rps, p99: c.median[name]!.p99 })) }];
  return { rows, runs, notes, chart, raw: { ...c, ratio } };
}
