import type { Checks, RuleTally } from '../lib/checks.js';
import type { Engine } from '../lib/engine-api.js';
import type { Ledger } from '../lib/ledger.js';
import type { Recorder } from '../lib/recorder.js';
import type { ProductTemplate, ScenarioDefs, ScenarioName } from '../lib/scenario-config.js';
import type { Target } from './engine-target.js';
import type { StopSignal } from './stop-signal.js';
import type { Vu } from './vus.js';

/** One latency/memory sample of the load phase (soak). */
export interface IntervalSample {
  /** seconds since the load phase started, at the end of the interval */
  at_s: number;
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  /** engine resident set size in MiB, when the engine's pid is known */
  rss_mb: number | undefined;
}

/** Everything a scenario works with during one run. */
export interface RunContext<N extends ScenarioName = ScenarioName> {
  name: N;
  def: ScenarioDefs[N];
  product: ProductTemplate;
  /** unique per run: prefixes product ids, user ids, idempotency keys and event ids */
  runId: string;
  /** load-phase calls (recorded) */
  engine: Engine;
  /** setup and verification calls (not recorded) */
  quiet: Engine;
  target: Target;
  vus: number;
  durationMs: number;
  recorder: Recorder;
  ledger: Ledger;
  rules: RuleTally;
  checks: Checks;
  stop: StopSignal;
  intervals: IntervalSample[];
  /** how long to wait for holds and orders to expire after the load (0 = do not wait) */
  drainMs: number;
  log(line: string): void;
}

/** A scenario: its products, one VU iteration, and its own pass rules. */
export interface Scenario<N extends ScenarioName, S> {
  setup(ctx: RunContext<N>): Promise<S>;
  /** product ids the common checks (invariant, sold = paid, Postgres) look at */
  products(state: S): string[];
  /** runs for every VU before the load phase (not recorded): e.g. open the product page, warming connections */
  prepare?(ctx: RunContext<N>, state: S, vu: Vu): Promise<void>;
  /** one iteration of a VU; false = this VU is done */
  iteration(ctx: RunContext<N>, state: S, vu: Vu): Promise<boolean>;
  /** runs next to the VUs until the load phase ends (sampling) */
  monitor?(ctx: RunContext<N>, state: S): Promise<void>;
  /** the scenario's own checks, before the common ones */
  verify(ctx: RunContext<N>, state: S): Promise<void>;
}

export const randomInt = (min: number, max: number) => min + Math.floor(Math.random() * (max - min + 1));

/** A think time drawn from `[min, max]` ms; cut short when the load phase ends. */
export function think(ctx: RunContext, [min, max]: readonly [number, number]): Promise<void> {
  return ctx.stop.sleep(min + Math.random() * Math.max(0, max - min));
}

/** Fisher-Yates, in place. */
export function shuffle<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

/** A product id that is unique per run and tells what created it. */
export const productId = (ctx: RunContext, label: string) => `lt-${ctx.name}-${label}-${ctx.runId}`;
