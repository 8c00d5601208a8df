import type { Logger } from 'pino';
import { withDeadline } from './deadline.js';

class StillRunning extends Error {}

/**
 * A shutdown within one time budget (SHUTDOWN_TIMEOUT_MS), in steps that must each be done by a mark
 * of it: in-flight requests by 40 %, jobs by 80 %, connections by the end. Time a step does not use goes
 * to the next ones. A step still running at its mark is cut off: its `cut` runs, nobody waits for it
 * any longer, and its name is kept, so a Redis or Postgres that never answers delays the exit by the
 * budget at most and the exit says what was left behind.
 */
export class Shutdown {
  static readonly REQUESTS_BY = 0.4;
  static readonly JOBS_BY = 0.8;
  static readonly CONNECTIONS_BY = 1;

  private readonly started = Date.now();
  /** the steps that were cut off, in order */
  readonly cutOff: string[] = [];

  constructor(
    private readonly budgetMs: number,
    private readonly logger: Logger,
  ) {}

  /** Runs `work` until it settles or the `mark` (a fraction of the budget) is reached; a failure is logged, not thrown. */
  async step(name: string, mark: number, work: () => Promise<unknown>, cut?: () => unknown): Promise<void> {
    const leftMs = Math.max(0, this.started + this.budgetMs * mark - Date.now());
    try {
      await withDeadline(work(), leftMs, () => new StillRunning());
    } catch (err) {
      if (!(err instanceof StillRunning)) {
        this.logger.warn({ step: name, err }, 'shutdown step failed');
        return;
      }
      this.cutOff.push(name);
      this.logger.warn({ step: name, waitedMs: leftMs }, `shutdown: ${name} did not finish in time; cut off`);
      if (cut) Promise.resolve().then(cut).catch((cutErr: unknown) => this.logger.warn({ step: name, err: cutErr }, 'shutdown: cutting off failed'));
    }
  }
}
