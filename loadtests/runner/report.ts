import type { RequestStats } from '../lib/recorder.js';
import { RATE_LIMITED } from '../steps/api.js';
import type { RunSummary } from './run-scenario.js';

const ms = (v: number) => v.toFixed(1);

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 || i === r.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

const outcomes = (o: Record<string, number>) =>
  Object.entries(o)
    .map(([k, n]) => `${k}: ${n}`)
    .join(', ');

const row = (r: RequestStats) => [r.name, String(r.count), r.rps.toFixed(1), ms(r.p50), ms(r.p95), ms(r.p99), ms(r.max), outcomes(r.outcomes)];

const MARK = { pass: 'PASS', fail: 'FAIL', skip: 'skip' } as const;

/** The end-of-run summary: requests (req/s, latency, outcomes by status + problem code), then the checks. */
export function formatSummary(s: RunSummary): string {
  const lines: string[] = [];
  lines.push(`\n${s.scenario}: ${s.pass ? 'PASS' : 'FAIL'}  (${s.vus} VUs, ${s.duration_s.toFixed(1)} s, ${s.target.url}${s.target.started_here ? ', engine started here' : ''})`);
  lines.push('');
  lines.push(table([['request', 'count', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms', 'outcomes'], ...s.requests.map(row), row(s.total)]));
  const limited = s.total.outcomes[RATE_LIMITED] ?? 0;
  if (limited > 0) lines.push(`\nrate limited: ${limited} answers ${RATE_LIMITED}; the customers waited as Retry-After said and asked again`);
  if (Object.keys(s.orders).length > 0) lines.push(`\norders as customers last read them: ${outcomes(s.orders)}`);
  if (Object.keys(s.counts).length > 0) lines.push(`\ncounted: ${outcomes(s.counts)}`);
  if (s.intervals.length > 0) {
    lines.push('');
    lines.push(
      table([
        ['interval end', 'requests', 'req/s', 'p50 ms', 'p99 ms', 'engine RSS MiB'],
        ...s.intervals.map((i) => [`${i.at_s}s`, String(i.requests), i.rps.toFixed(1), ms(i.p50), ms(i.p99), i.rss_mb === undefined ? '-' : i.rss_mb.toFixed(0)]),
      ]),
    );
  }
  lines.push('');
  for (const c of s.checks) lines.push(`${MARK[c.state]}  ${c.name}: ${c.detail}`);
  if (s.unexpected_samples.length > 0) {
    lines.push('\nunexpected responses (one example per request and outcome; counts in the table above):');
    for (const u of s.unexpected_samples) lines.push(`  ${u}`);
  }
  return lines.join('\n');
}
