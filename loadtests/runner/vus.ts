import { customerToken } from '../lib/auth.js';
import type { StopSignal } from './stop-signal.js';

/** A virtual user: one customer with its own identity, running iterations one after another. */
export interface Vu {
  /** 1-based, like k6's `__VU` */
  id: number;
  userId: string;
  token: string;
  /** 0-based iteration number, like k6's `__ITER` */
  iter: number;
}

/** One customer per VU, each with its own user id and a token valid for the whole run. */
export function makeUsers(runId: string, count: number, jwtSecret: string, tokenTtlS: number): Vu[] {
  return Array.from({ length: count }, (_, i) => {
    const userId = `lt-${runId}-u${i + 1}`;
    return { id: i + 1, userId, token: customerToken(jwtSecret, userId, tokenTtlS), iter: 0 };
  });
}

export interface VuRun {
  vus: Vu[];
  /** the load phase: iterations start until `durationMs` passed or the stop signal fired */
  durationMs: number;
  stop: StopSignal;
  /** one iteration; resolves false when this VU has nothing more to do */
  iteration(vu: Vu): Promise<boolean>;
  /** an iteration threw: counted, the VU goes on */
  onError(vu: Vu, err: unknown): void;
  /** how long running iterations may take to finish after the load phase */
  gracefulStopMs?: number;
}

/** Runs the VUs concurrently (k6's constant-vus executor). Resolves when all are done or the grace period is over. */
export async function runVus(run: VuRun): Promise<{ unfinished: number }> {
  const timer = setTimeout(() => run.stop.stop(), run.durationMs);
  let running = run.vus.length;
  const loops = run.vus.map(async (vu) => {
    try {
      while (!run.stop.stopped) {
        let more: boolean;
        try {
          more = await run.iteration(vu);
        } catch (err) {
          run.onError(vu, err);
          more = true;
        }
        vu.iter += 1;
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
