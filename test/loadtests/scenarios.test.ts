import { describe, expect, inject, it } from 'vitest';
import { loadScenarioFile, SCENARIO_NAMES, type ScenarioName } from '../../loadtests/lib/scenario-config.js';
import { formatSummary } from '../../loadtests/runner/report.js';
import { runScenario, type RunOptions } from '../../loadtests/runner/run-scenario.js';

/**
 * Each load scenario, briefly, against a real engine process (started by the runner on the test
 * Redis/Postgres with its own key prefix and database) in its default configuration, per-customer rate
 * limit included: the same pass rules as `npm run loadtest`.
 */

const SHORT_RUNS: [string, ScenarioName, RunOptions][] = [
  // the sale opens 2 s in; 200 customers for 50 units, done within a few seconds
  ['stampede', 'stampede', { durationS: 10 }],
  // short TTLs from scenarios.json (3 s hold, 4 s payment): abandoned holds/orders expire during the drain
  ['checkout', 'checkout', { durationS: 8, vus: 10 }],
  ['webhook-storm', 'webhook-storm', { durationS: 4, vus: 8 }],
  // five 1.6 s intervals: first-after-warm-up vs last
  ['soak', 'soak', { durationS: 8, vus: 10 }],
  // 20 products of 10 units open 5 s in; 15 customers each, so every product sells out
  ['drop', 'drop', { durationS: 15, vus: 300 }],
  // a waiting room of 60 units opening 2 s in; 300 customers on 20 VUs arrive over 6 s, most end sold out.
  // Ends once every customer has a final status: usually within a minute (units of abandoned holds, failed
  // payments and missed 5 s windows go down the line; far back, customers poll as advised, up to 30 s apart)
  ['drop-queue', 'drop-queue', { durationS: 120, vus: 20, overrides: { customers: 300, stock: 60, opens_in_s: 2, arrivals_s: 6, admission_window_s: 5 } }],
  // the same crowd on an open product: straight for holds until one is won or the answer is sold out
  ['drop-queue, open', 'drop-queue', { durationS: 30, vus: 20, overrides: { customers: 300, stock: 60, opens_in_s: 2, arrivals_s: 6, admission: 'open' } }],
  // customers far over a tight rate limit: they wait out the 429s and the run still passes
  ['webhook-storm, rate limit 5/s', 'webhook-storm', { durationS: 4, vus: 4, engineEnv: { RATE_LIMIT_PER_SECOND: '5', RATE_LIMIT_BURST: '5' } }],
];

describe('load scenarios (short runs)', () => {
  it('run against the engine as it is configured by default (no scenario turns the rate limit off)', () => {
    const { scenarios } = loadScenarioFile();
    for (const name of SCENARIO_NAMES) expect(Object.keys(scenarios[name].engine_env), name).not.toContain('RATE_LIMIT_PER_SECOND');
  });

  // (drop-queue may use its 120 s)
  it.each(SHORT_RUNS)('%s passes', { timeout: 180_000 }, async (label, name, opts) => {
    const summary = await runScenario(name, {
      ...opts,
      redisUrl: inject('redisUrl'),
      postgresUrl: inject('postgresUrl'),
      progress: 'never',
      log: () => {},
    });
    expect(summary.pass, formatSummary(summary)).toBe(true);
    expect(summary.total.count).toBeGreaterThan(0);
    if (opts.engineEnv) expect(summary.total.outcomes['429 rate_limited'], label).toBeGreaterThan(0);
  });
});
