import { nodeCrypto } from '../lib/node-crypto.js';
import { customerId, customerToken } from '../steps/auth.js';
import type { StepContext, Vu } from '../steps/types.js';
import type { StopSignal } from './stop-signal.js';

/** One customer per VU, each with its own user id and a token valid for the whole run. */
export function makeVus(runId: string, count: number, jwtSecret: string, tokenTtlS: number): Vu[] {
  return Array.from({ length: count }, (_, i) => ({ id: i + 1, iter: 0, token: customerToken(nodeCrypto, jwtSecret, customerId(runId, i + 1), tokenTtlS) }));
}

export interface VuRun {
  /** one step context per VU */
  vus: StepContext[];
  /** the load phase: iterations start until `durationMs` passed or the stop signal fired */
  durationMs: number;
  stop: StopSignal;
  /** one iteration; resolves false when this VU has nothing more to do */
  iteration(step: StepContext): Promise<boolean>;
  /** an iteration threw: counted, the VU goes on */
  onError(vu: Vu, err: unknown): void;
  /** how long running iterations may take to finish after the load phase */
  gracefulStopMs?: number;
}

/** Runs the VUs concurrently (k6's constant-vus executor). Resolves when all are done or the grace period is over. */
export async function runVus(run: VuRun): Promise<{ unfinished: number }> {
  const timer = setTimeout(() => run.stop.stop(), run.durationMs);
  let running = run.vus.length;
  const loops = run.vus.map(async (step) => {
    try {
      while (!run.stop.stopped) {
        let more: boolean;
        try {
          more = await run.iteration(step);
        } catch (err) {
          run.onError(step.vu, err);
          more = true;
        }
        step.vu.iter += 1;
        if (!more) break;
      }
    } finally {
      running -= 1;
    }
  });
  const all = Promise.all(loops).then(() => run.stop.stop());
  await run.stop.whenStopped();
  clearTimeout(timer);
  // the load phase is over: give iterations in flight time to complete
  let graceTimer: NodeJS.Timeout | undefined;
  await Promise.race([all, new Promise<void>((resolve) => (graceTimer = setTimeout(resolve, run.gracefulStopMs ?? 30_000)))]);
  clearTimeout(graceTimer);
  return { unfinished: running };
}
