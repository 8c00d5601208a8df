import { randomBytes } from 'node:crypto';
import { Checks, RuleTally, type Check } from '../lib/checks.js';
import { Ledger } from '../lib/ledger.js';
import { nodeCrypto } from '../lib/node-crypto.js';
import { nodeHttp } from '../lib/node-http.js';
import { Recorder, type RequestStats } from '../lib/recorder.js';
import { loadScenarioFile, type ScenarioName, type ScenarioOverrides } from '../lib/scenario-config.js';
import { EngineApi } from '../steps/api.js';
import type { StepContext, StockBreakdown } from '../steps/types.js';
import { commonChecks, type LoadPhaseResult } from './common-checks.js';
import type { IntervalSample, RunContext, Scenario } from './context.js';
import { openTarget, type TargetOptions } from './engine-target.js';
import { startProgress, type ProgressMode } from './progress.js';
import { SCENARIOS } from './scenarios/index.js';
import { sleep, StopSignal } from './stop-signal.js';
import { makeVus, runVus } from './vus.js';

export interface RunOptions extends TargetOptions {
  vus?: number | undefined;
  durationS?: number | undefined;
  /** seconds to wait for abandoned holds/orders to expire (checkout); default: the scenario's drain_timeout_s when the engine is started here, else 0 */
  drainS?: number | undefined;
  progress?: ProgressMode | undefined;
  /** ends the load phase early (Ctrl-C); verification still runs */
  signal?: AbortSignal | undefined;
  /** informational lines (default: stderr) */
  log?: ((line: string) => void) | undefined;
  /** another scenario file (default loadtests/scenarios.json) */
  scenariosFile?: string | URL | undefined;
  /** fields of the scenario's definition to use instead of the file's (e.g. a smaller crowd) */
  overrides?: ScenarioOverrides | undefined;
}

export interface RunSummary {
  scenario: ScenarioName;
  pass: boolean;
  target: { url: string; started_here: boolean; pid: number | undefined };
  vus: number;
  /** length of the load phase, seconds */
  duration_s: number;
  total: RequestStats;
  requests: RequestStats[];
  checks: Check[];
  unexpected_samples: string[];
  iteration_errors: { count: number; samples: string[] };
  /** final order statuses as customers read them */
  orders: Record<string, number>;
  /** what the scenario counted (e.g. drop-queue's joins, polls, holds and customers by final status) */
  counts: Record<string, number>;
  intervals: IntervalSample[];
  products: { id: string; stock: StockBreakdown | undefined }[];
}

/** Runs one scenario end to end: engine, products, load, checks. Never throws for a failed rule: see `pass`. */
export async function runScenario(name: ScenarioName, opts: RunOptions = {}): Promise<RunSummary> {
  const file = loadScenarioFile(opts.scenariosFile, opts.overrides && { name, values: opts.overrides });
  const def = file.scenarios[name];
  const scenario: Scenario<ScenarioName, unknown> = SCENARIOS[name];
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const vus = opts.vus ?? def.vus;
  const durationMs = (opts.durationS ?? def.duration_s) * 1000;

  const target = await openTarget(opts, def.engine_env);
  log(`${name}: ${vus} VUs for ${durationMs / 1000}s against ${target.url}${target.startedHere ? ` (engine started here, pid ${target.pid})` : ''}`);
  const recorder = new Recorder();
  const transport = nodeHttp(target.url);
  // a back-off is waited out in full even after the load phase ended: the iteration it belongs to is finishing
  const api = new EngineApi({ baseUrl: target.url, http: transport.http, crypto: nodeCrypto, credentials: target.credentials, sleep, record: (o) => recorder.record(o) });
  try {
    const drainDefault = target.startedHere && 'drain_timeout_s' in def ? def.drain_timeout_s : 0;
    const ctx: RunContext = {
      name,
      def,
      product: file.product,
      runId: randomBytes(4).toString('hex'),
      admin: api.unrecorded(),
      target,
      vus,
      durationMs,
      recorder,
      ledger: new Ledger(),
      rules: new RuleTally(),
      checks: new Checks(),
      stop: new StopSignal(),
      intervals: [],
      drainMs: (opts.drainS ?? drainDefault) * 1000,
      log,
    };
    const state = await scenario.setup(ctx);

    const steps = makeVus(ctx.runId, vus, target.credentials.jwtSecret, durationMs / 1000 + 3600).map(
      (vu): StepContext => ({ api, runId: ctx.runId, vu, sleep: (ms) => ctx.stop.sleep(ms), rules: ctx.rules, orders: ctx.ledger }),
    );
    const load: LoadPhaseResult = { errorCount: 0, errors: [], unfinished: 0 };
    opts.signal?.addEventListener('abort', () => ctx.stop.stop(), { once: true });

    if (scenario.prepare) await Promise.all(steps.map(() => scenario.prepare!(ctx, state)));
    recorder.start();
    const stopProgress = startProgress(name, durationMs, recorder, opts.progress ?? 'auto');
    const monitor = scenario.monitor?.(ctx, state);
    const { unfinished } = await runVus({
      vus: steps,
      durationMs,
      stop: ctx.stop,
      iteration: (step) => scenario.iteration(ctx, state, step),
      onError: (vu, err) => {
        load.errorCount += 1;
        if (load.errors.length < 5) load.errors.push(`VU ${vu.id} iteration ${vu.iter}: ${err instanceof Error ? err.message : String(err)}`);
      },
    });
    load.unfinished = unfinished;
    recorder.stop();
    stopProgress();
    await monitor;

    try {
      await scenario.verify(ctx, state);
    } catch (err) {
      ctx.checks.add(`${name} verification`, false, err instanceof Error ? err.message : String(err));
    }
    ctx.rules.report(ctx.checks);
    const products = await commonChecks(ctx, scenario.products(state), load);
    const stats = recorder.stats();

    return {
      scenario: name,
      pass: ctx.checks.passed,
      target: { url: target.url, started_here: target.startedHere, pid: target.pid },
      vus,
      duration_s: recorder.elapsedS,
      total: stats.total,
      requests: stats.requests,
      checks: ctx.checks.list,
      unexpected_samples: recorder.unexpectedSamples,
      iteration_errors: { count: load.errorCount, samples: load.errors },
      orders: ctx.ledger.statusCounts(),
      counts: scenario.counts?.(state) ?? {},
      intervals: ctx.intervals,
      products,
    };
  } finally {
    transport.close();
    await target.stop();
  }
}
