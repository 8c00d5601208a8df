import type { Logger } from 'pino';
import type { Queues } from './queues.js';

type ExpiryJob = 'expire-holds' | 'expire-orders';

/**
 * Schedules ONE delayed job per (product, expiry second) instead of one per hold: the job expires every
 * overdue hold of its product. Job ids are deterministic, so other processes scheduling the same second
 * are deduplicated by BullMQ; this process remembers what it scheduled and skips the round trip.
 * A job that is lost anyway is covered by the periodic sweep.
 */
export class ExpiryScheduler {
  private readonly scheduled = new Map<string, number>();
  private prunedAtSec = 0;

  constructor(
    private readonly queues: Queues,
    private readonly logger: Logger,
  ) {}

  schedule(job: ExpiryJob, productId: string, dueAtMs: number): void {
    const sec = Math.ceil(dueAtMs / 1000);
    const jobId = `${job}-${sec}-${productId}`;
    if (this.scheduled.has(jobId)) return;
    this.prune();
    this.scheduled.set(jobId, sec);
    this.queues.add(job, { productId }, jobId, sec * 1000 - Date.now()).catch((err: unknown) => {
      this.scheduled.delete(jobId);
      this.logger.warn({ err, jobId }, 'could not schedule expiry job; the sweep will expire these');
    });
  }

  private prune(): void {
    const nowSec = Math.floor(Date.now() / 1000);
    if (nowSec === this.prunedAtSec) return;
    this.prunedAtSec = nowSec;
    for (const [id, sec] of this.scheduled) if (sec < nowSec) this.scheduled.delete(id);
  }
}
