import * as steps from '../../steps/soak.js';
import type { SoakState } from '../../steps/soak.js';
import { CHECKS, staysFlat } from '../../steps/rules.js';
import type { IntervalSample, Scenario } from '../context.js';
import { rssBytes } from '../engine-target.js';

interface State extends SoakState {
  intervalMs: number;
}

const MB = 1024 * 1024;
/**
 * Requests an interval needs before its p99 says more than its slowest request or two: a short run
 * (the test suite's 8 s) has about a hundred an interval, where one stall on a shared machine is the p99.
 */
const P99_MIN_REQUESTS = 1000;

/**
 * loadtests/steps/soak.js, sampled per interval here: latency from the recorder, memory from the
 * engine's /proc entry.
 */
export const soak: Scenario<'soak', State> = {
  async setup(ctx) {
    const s = await steps.setup(ctx.admin, ctx);
    steps.LOAD_RULES.forEach((r) => ctx.rules.declare(r));
    return { ...s, intervalMs: steps.intervalMs(ctx.def.interval_s, ctx.durationMs) };
  },

  products: (s) => [s.productId],

  async iteration(ctx, s, step) {
    await steps.iteration(step, ctx.def, s);
    return true;
  },

  async monitor(ctx, s) {
    const started = Date.now();
    ctx.recorder.takeInterval();
    while (!ctx.stop.stopped) {
      await ctx.stop.sleep(started + (ctx.intervals.length + 1) * s.intervalMs - Date.now());
      if (ctx.stop.stopped) break; // a partial last interval is not comparable
      const h = ctx.recorder.takeInterval();
      const rss = rssBytes(ctx.target.pid);
      const sample: IntervalSample = {
        at_s: Math.round((Date.now() - started) / 1000),
        requests: h.count,
        rps: h.count / (s.intervalMs / 1000),
        p50: h.percentile(50),
        p99: h.percentile(99),
        rss_mb: rss === undefined ? undefined : rss / MB,
      };
      ctx.intervals.push(sample);
    }
  },

  async verify(ctx) {
    const { checks, intervals, def } = ctx;
    if (intervals.length < 3) {
      checks.skip(CHECKS.latencyFlat, `only ${intervals.length} complete intervals; run longer`);
      checks.skip(CHECKS.memoryFlat, `only ${intervals.length} complete intervals; run longer`);
      return;
    }
    // the first interval is warm-up (JIT, pools, caches)
    const first = intervals[1]!;
    const last = intervals[intervals.length - 1]!;
    const fewest = Math.min(first.requests, last.requests);
    if (fewest < P99_MIN_REQUESTS) {
      checks.skip(CHECKS.latencyFlat, `an interval had ${fewest} requests, whose p99 is about their slowest; ${P99_MIN_REQUESTS} needed (longer intervals or more VUs)`);
    } else {
      const latency = staysFlat('p99', { first: first.p99, last: last.p99, growthMax: def.pass.p99_growth_max, slack: def.pass.p99_slack_ms, unit: 'ms', digits: 1 });
      checks.add(CHECKS.latencyFlat, latency.ok, latency.detail);
    }
    if (first.rss_mb === undefined || last.rss_mb === undefined) {
      checks.skip(CHECKS.memoryFlat, 'engine pid unknown (started elsewhere); pass --engine-pid to sample its RSS');
      return;
    }
    const memory = staysFlat('RSS', { first: first.rss_mb, last: last.rss_mb, growthMax: def.pass.rss_growth_max, slack: def.pass.rss_slack_mb, unit: 'MiB', digits: 0 });
    checks.add(CHECKS.memoryFlat, memory.ok, memory.detail);
  },
};
