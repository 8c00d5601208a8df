import type { ScenarioName } from '../../loadtests/lib/scenario-config.js';
import { runScenario, type RunSummary } from '../../loadtests/runner/run-scenario.js';
import { fmtInt, fmtLatencies95 } from '../lib/format.js';
import type { BenchContext, Row, Section } from '../lib/types.js';

/**
 * The bench's fixed size per scenario: the VUs of scenarios.json, shorter durations (stampede ends by
 * itself once its small stock is gone, drop once every customer has an answer; soak is a short sample of
 * the 30-minute one).
 */
const SIZES: Record<ScenarioName, { vus: number; durationS: number }> = {
  stampede: { vus: 200, durationS: 20 },
  checkout: { vus: 20, durationS: 10 },
  'webhook-storm': { vus: 10, durationS: 10 },
  soak: { vus: 20, durationS: 20 },
  drop: { vus: 2000, durationS: 30 },
  'drop-queue': { vus: 200, durationS: 180 },
};

async function run(ctx: BenchContext, name: ScenarioName): Promise<RunSummary> {
  const { vus } = SIZES[name];
  const durationS = ctx.opts.scenarioDuration ?? SIZES[name].durationS;
  ctx.log(`  ${name}: ${vus} VUs, ${durationS} s, on an engine of its own`);
  const s = await runScenario(name, { vus, durationS, progress: 'never', log: (line) => ctx.log(`    ${line}`) });
  ctx.log(`  ${name}: ${fmtInt(s.total.rps)} req/s, p50/p95/p99 ${fmtLatencies95(s.total)}, ${s.pass ? 'PASS' : 'FAIL'}`);
  return s;
}

const row = (s: RunSummary): Row => ({
  metric: `${s.scenario} (${s.vus} VUs, ${s.duration_s.toFixed(0)} s): req/s; p50 / p95 / p99`,
  value: `${fmtInt(s.total.rps)} req/s`,
  baseline: `${fmtLatencies95(s.total)}; ${fmtInt(s.total.count)} requests`,
  target: `all ${s.checks.filter((c) => c.state !== 'skip').length} checks pass`,
  pass: s.pass,
});

const failedChecks = (s: RunSummary): string[] =>
  s.checks.filter((c) => c.state === 'fail').map((c) => `scenarios: ${s.scenario} check failed: ${c.name} (${c.detail})`);

/** The load scenarios of loadtests/scenarios.json through the Node runner, each on a fresh engine with the scenario's engine_env. */
export const scenariosSection: Section = {
  name: 'scenarios',
  title: 'Load scenarios (loadtests/scenarios.json)',
  async run(ctx) {
    const summaries: RunSummary[] = [];
    for (const name of Object.keys(SIZES) as ScenarioName[]) summaries.push(await run(ctx, name));
    return {
      rows: summaries.map(row),
      chart: [{ title: 'load scenarios', bars: summaries.map((s) => ({ label: s.scenario, rps: s.total.rps, p99: s.total.p99 })) }],
      notes: [
        'scenarios: runScenario() of loadtests/runner in the bench process, each scenario against an engine started for it ' +
          "(fresh key prefix and database, the scenario's engine_env: short hold/payment TTLs so expiry runs, and its drain wait); " +
          'req/s and latencies are over every request of the load phase; pass = all of the scenario\'s checks (loadtests/README.md).',
        ...summaries.flatMap(failedChecks),
      ],
      raw: summaries,
    };
  },
};
