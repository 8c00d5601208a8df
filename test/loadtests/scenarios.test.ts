import { describe, expect, inject, it } from 'vitest';
import type { ScenarioName } from '../../loadtests/lib/scenario-config.js';
import { formatSummary } from '../../loadtests/runner/report.js';
import { runScenario, type RunOptions } from '../../loadtests/runner/run-scenario.js';

/**
 * Each load scenario, briefly, against a real engine process (started by the runner on the test
 * Redis/Postgres with its own key prefix and database): the same pass rules as `npm run loadtest`.
 */

const SHORT_RUNS: [ScenarioName, RunOptions][] = [
  // the sale opens 2 s in; 200 customers for 50 units, done within a few seconds
  ['stampede', { durationS: 10 }],
  // short TTLs from scenarios.json (3 s hold, 4 s payment): abandoned holds/orders expire during the drain
  ['checkout', { durationS: 8, vus: 10 }],
  ['webhook-storm', { durationS: 4, vus: 8 }],
  // five 1.6 s intervals: first-after-warm-up vs last
  ['soak', { durationS: 8, vus: 10 }],
];

describe('load scenarios (short runs)', () => {
  it.each(SHORT_RUNS)('%s passes', async (name, opts) => {
    const summary = await runScenario(name, {
      ...opts,
      redisUrl: inject('redisUrl'),
      postgresUrl: inject('postgresUrl'),
      progress: 'never',
      log: () => {},
    });
    expect(summary.pass, formatSummary(summary)).toBe(true);
    expect(summary.total.count).toBeGreaterThan(0);
  });
});
