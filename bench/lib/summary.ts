import type { Result } from 'autocannon';

/** The numbers of one load run that the report uses. Latencies in ms. */
export interface RunSummary {
  /** mean of the per-second request counts */
  rps: number;
  p50: number;
  p97_5: number;
  p99: number;
  requests: number;
  non2xx: number;
  /** connection errors and timeouts */
  errors: number;
  statusCodes: Record<string, number>;
  durationS: number;
}

export function summarize(r: Result): RunSummary {
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(r.statusCodeStats ?? {})) statusCodes[code] = count ?? 0;
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p97_5: r.latency.p97_5,
    p99: r.latency.p99,
    requests: r.requests.total,
    non2xx: r.non2xx,
    errors: r.errors,
    statusCodes,
    durationS: r.duration,
  };
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Per-metric medians over several runs (each metric on its own). */
export function medianRun(runs: RunSummary[]): RunSummary {
  const m = (f: (r: RunSummary) => number) => median(runs.map(f));
  const statusCodes: Record<string, number> = {};
  for (const r of runs) for (const [code, n] of Object.entries(r.statusCodes)) statusCodes[code] = (statusCodes[code] ?? 0) + n;
  return {
    rps: m((r) => r.rps),
    p50: m((r) => r.p50),
    p97_5: m((r) => r.p97_5),
    p99: m((r) => r.p99),
    requests: runs.reduce((a, r) => a + r.requests, 0),
    non2xx: runs.reduce((a, r) => a + r.non2xx, 0),
    errors: runs.reduce((a, r) => a + r.errors, 0),
    statusCodes,
    durationS: runs.reduce((a, r) => a + r.durationS, 0),
  };
}

/** Responses whose status is not the expected one (all runs summed). */
export function unexpected(run: RunSummary, expectedStatus: number): number {
  return Object.entries(run.statusCodes).reduce((a, [code, n]) => (Number(code) === expectedStatus ? a : a + n), 0) + run.errors;
}
