import { createProduct, getProduct } from '../../lib/engine-api.js';
import { productId, think, type IntervalSample, type RunContext, type Scenario } from '../context.js';
import { rssBytes } from '../engine-target.js';
import { checkoutFlow, FLOW_RULES, holdAndReleaseFlow } from '../flows.js';

interface State {
  productId: string;
  intervalMs: number;
}

type Mix = keyof RunContext<'soak'>['def']['mix'];

function pick(mix: Record<Mix, number>): Mix {
  const entries = Object.entries(mix) as [Mix, number][];
  let r = Math.random() * entries.reduce((n, [, w]) => n + w, 0);
  for (const [name, w] of entries) {
    r -= w;
    if (r < 0) return name;
  }
  return entries[0]![0];
}

/** Interval length: the configured one, but at least five intervals per run so first and last can be compared. */
export const intervalMs = (intervalS: number, durationMs: number) => Math.min(intervalS * 1000, Math.max(1000, Math.floor(durationMs / 5)));

const MB = 1024 * 1024;

/**
 * A steady mixed load (browse, check out, hold and release) for a long time, sampled per interval:
 * latency and the engine's memory must stay flat (the first interval after warm-up against the last).
 */
export const soak: Scenario<'soak', State> = {
  async setup(ctx) {
    const id = productId(ctx, 'item');
    await createProduct(ctx.quiet, ctx.product, { id, stock: ctx.def.stock });
    Object.values(FLOW_RULES).forEach((r) => ctx.rules.declare(r));
    return { productId: id, intervalMs: intervalMs(ctx.def.interval_s, ctx.durationMs) };
  },

  products: (s) => [s.productId],

  async iteration(ctx, s, vu) {
    const flow = pick(ctx.def.mix);
    if (flow === 'browse') await getProduct(ctx.engine, s.productId);
    else if (flow === 'checkout') await checkoutFlow(ctx, vu, s.productId, ctx.def.flow);
    else await holdAndReleaseFlow(ctx, vu, s.productId, ctx.def.flow.think_ms);
    await think(ctx, ctx.def.think_ms);
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
      checks.skip('latency stays flat', `only ${intervals.length} complete intervals; run longer`);
      checks.skip('memory stays flat', `only ${intervals.length} complete intervals; run longer`);
      return;
    }
    // the first interval is warm-up (JIT, pools, caches)
    const first = intervals[1]!;
    const last = intervals[intervals.length - 1]!;
    const p99Limit = Math.max(first.p99 * def.pass.p99_growth_max, first.p99 + def.pass.p99_slack_ms);
    checks.add('latency stays flat', last.p99 <= p99Limit, `p99 ${first.p99.toFixed(1)} ms -> ${last.p99.toFixed(1)} ms (limit ${p99Limit.toFixed(1)})`);
    if (first.rss_mb === undefined || last.rss_mb === undefined) {
      checks.skip('memory stays flat', 'engine pid unknown (started elsewhere); pass --engine-pid to sample its RSS');
      return;
    }
    const rssLimit = Math.max(first.rss_mb * def.pass.rss_growth_max, first.rss_mb + def.pass.rss_slack_mb);
    checks.add('memory stays flat', last.rss_mb <= rssLimit, `RSS ${first.rss_mb.toFixed(0)} MiB -> ${last.rss_mb.toFixed(0)} MiB (limit ${rssLimit.toFixed(0)})`);
  },
};
