import type { Checks, RuleTally } from '../lib/checks.js';
import type { Ledger } from '../lib/ledger.js';
import type { Recorder } from '../lib/recorder.js';
import type { ProductTemplate, ScenarioDefs, ScenarioName } from '../lib/scenario-config.js';
import type { EngineApi } from '../steps/api.js';
import type { StepContext } from '../steps/types.js';
import type { Target } from './engine-target.js';
import type { StopSignal } from './stop-signal.js';

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
  /** setup and verification calls (not recorded); the VUs' recorded calls go through their StepContext */
  admin: EngineApi;
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

/**
 * A scenario in the Node runner: the steps of loadtests/steps/<name>.js plus what only this runner does
 * (counting outcomes across VUs, sampling, the checks that need Postgres, the engine's memory or the ledger).
 */
export interface Scenario<N extends ScenarioName, S> {
  setup(ctx: RunContext<N>): Promise<S>;
  /** product ids the common checks (invariant, sold = paid, Postgres) look at */
  products(state: S): string[];
  /** runs for every VU before the load phase (not recorded): e.g. open the product page, warming connections */
  prepare?(ctx: RunContext<N>, state: S): Promise<void>;
  /** one iteration of a VU; false = this VU is done */
  iteration(ctx: RunContext<N>, state: S, step: StepContext): Promise<boolean>;
  /** runs next to the VUs until the load phase ends (sampling) */
  monitor?(ctx: RunContext<N>, state: S): Promise<void>;
  /** numbers the scenario counted, for the summary */
  counts?(state: S): Record<string, number>;
  /** the scenario's own checks, before the common ones */
  verify(ctx: RunContext<N>, state: S): Promise<void>;
}
