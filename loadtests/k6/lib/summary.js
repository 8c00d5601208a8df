// handleSummary for the k6 scripts: the same summary as the Node runner (requests with latency and
// outcome counts, then the pass/fail rules), on stdout, and as JSON when -e SUMMARY_JSON=<file> is given.
import { RATE_LIMITED, REQUEST_NAMES } from '../../steps/api.js';
import { DISPLAY_ONLY } from './thresholds.js';

/**
 * @typedef {{ type: string, contains?: string, values: Record<string, number>, thresholds?: Record<string, { ok: boolean }> }} SummaryMetric
 * @typedef {{ name: string, passes: number, fails: number }} SummaryCheck
 * @typedef {{ name: string, checks: SummaryCheck[], groups: SummaryGroup[] }} SummaryGroup
 * @typedef {{ metrics: Record<string, SummaryMetric | undefined>, root_group: SummaryGroup, state: { testRunDurationMs: number } }} SummaryData
 * @typedef {{ name: string, ok: boolean, detail: string }} Verdict
 */

/** @param {number | undefined} v */
const ms = (v) => (v === undefined ? '-' : v.toFixed(1));

/** @param {string[][]} rows */
function table(rows) {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/** @param {SummaryGroup} g @returns {SummaryCheck[]} */
const allChecks = (g) => [...g.checks, ...g.groups.flatMap(allChecks)];

/**
 * The thresholds that are rules (not the display-only ones), each with its verdict and observed value.
 * @param {SummaryData} data
 * @returns {Verdict[]}
 */
export function thresholdVerdicts(data) {
  /** @type {Verdict[]} */
  const out = [];
  for (const [metric, m] of Object.entries(data.metrics)) {
    for (const [expr, r] of Object.entries(m?.thresholds ?? {})) {
      if (DISPLAY_ONLY.includes(expr)) continue;
      const stat = /^([a-z]+(?:\(\d+(?:\.\d+)?\))?)/.exec(expr)?.[1] ?? '';
      const value = m?.values[stat];
      out.push({ name: `${metric} ${expr}`, ok: r.ok, detail: value === undefined ? 'no data' : `${stat} = ${Number(value.toFixed(2))}` });
    }
  }
  return out;
}

/**
 * The end-of-test summary: text on stdout (and JSON in -e SUMMARY_JSON).
 * @param {import('./config.js').Settings<keyof import('./config.js').ScenarioDefs>} cfg
 * @param {SummaryData} data
 * @param {Verdict[]} [reportOnly] verdicts computed here that thresholds cannot express (not part of the exit code)
 * @param {string[]} [counted] counters (or tagged counters with a threshold) to print with their counts
 * @returns {Record<string, string>}
 */
export function summarize(cfg, data, reportOnly = [], counted = []) {
  const seconds = Math.max(data.state.testRunDurationMs / 1000, 0.001);
  const requests = REQUEST_NAMES.map((name) => ({ name, v: data.metrics[`http_req_duration{name:${name}}`]?.values })).filter((r) => r.v && (r.v.count ?? 0) > 0);
  /** @type {Record<string, number>} */
  const outcomes = {};
  for (const [metric, m] of Object.entries(data.metrics)) {
    const key = /^outcomes\{outcome:(.*)\}$/.exec(metric)?.[1];
    if (key && m && (m.values.count ?? 0) > 0) outcomes[key] = m.values.count ?? 0;
  }
  const thresholds = thresholdVerdicts(data);
  const rules = allChecks(data.root_group).map((c) => ({ name: c.name, ok: c.fails === 0, detail: c.fails === 0 ? `${c.passes} checked` : `${c.fails} of ${c.passes + c.fails} failed` }));
  const pass = thresholds.every((t) => t.ok);

  const lines = [`\n${cfg.name} (k6): ${pass ? 'PASS' : 'FAIL'}  (${cfg.vus} VUs, ${seconds.toFixed(1)} s, ${cfg.target.baseUrl})`, ''];
  lines.push(
    table([
      ['request', 'count', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'max ms'],
      ...requests.map(({ name, v }) => [name, String(v?.count ?? 0), ((v?.count ?? 0) / seconds).toFixed(1), ms(v?.med), ms(v?.['p(95)']), ms(v?.['p(99)']), ms(v?.max)]),
    ]),
  );
  lines.push(`\noutcomes: ${Object.entries(outcomes).map(([k, n]) => `${k}: ${n}`).join(', ') || 'none'}`);
  const limited = outcomes[RATE_LIMITED] ?? 0;
  if (limited > 0) lines.push(`rate limited: ${limited} answers ${RATE_LIMITED}; the customers waited as Retry-After said and asked again`);
  if (counted.length > 0) lines.push(`counted: ${counted.map((name) => `${name}: ${data.metrics[name]?.values.count ?? 0}`).join(', ')}`);
  const unexpected = data.metrics.unexpected_responses?.values.count ?? 0;
  if (unexpected > 0) lines.push(`unexpected responses: ${unexpected} (see the warnings above)`);
  lines.push('\nthresholds (exit code):');
  for (const t of thresholds) lines.push(`${t.ok ? 'PASS' : 'FAIL'}  ${t.name}: ${t.detail}`);
  lines.push('\nrules (checks):');
  for (const r of rules) lines.push(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail}`);
  if (reportOnly.length > 0) {
    lines.push('\nreport only (not in the exit code):');
    for (const r of reportOnly) lines.push(`${r.ok ? 'PASS' : 'FAIL'}  ${r.name}: ${r.detail}`);
  }
  lines.push('');

  /** @type {Record<string, string>} */
  const out = { stdout: lines.join('\n') };
  if (__ENV.SUMMARY_JSON) {
    out[__ENV.SUMMARY_JSON] = JSON.stringify({ scenario: cfg.name, pass, vus: cfg.vus, duration_s: seconds, requests, outcomes, thresholds, rules, report_only: reportOnly, metrics: data.metrics }, null, 2);
  }
  return out;
}
