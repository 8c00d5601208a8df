import type { Logger } from 'pino';
import type { Queues } from './queues.js';

type ProductJob = 'expire-holds' | 'expire-orders' | 'persist' | 'admit-tickets' | 'draw-raffle';

/**
 * Schedules ONE job per (product, second) instead of one per hold or order change: the job handles
 * everything of its product that is due by then. Job ids are deterministic, so other processes
 * scheduling the same second are deduplicated by BullMQ; this process remembers what it scheduled and
 * skips the round trip. A job that is lost anyway is covered by the periodic sweep.
 */
export class ProductJobs {
  private readonly scheduled = new Map<string, number>();
  private prunedAtSec = 0;

  constructor(
    private readonly queues: Queues,
    private readonly logger: Logger,
  ) {}

  /** Expiry: a job at the first second boundary at or after `dueAtMs`. */
  expireAt(job: 'expire-holds' | 'expire-orders', productId: string, dueAtMs: number): void {
    this.schedule(job, productId, Math.ceil(dueAtMs / 1000));
  }

  /** A waiting room's or raffle's next step (admission, draw) at the first second boundary at or after `atMs`. */
  admissionAt(job: 'admit-tickets' | 'draw-raffle', productId: string, atMs: number): void {
    this.schedule(job, productId, Math.ceil(atMs / 1000));
  }

  /** Persistence: a job at the end of the current second writes all of this second's changes at once. */
  persistSoon(productId: string): void {
    this.schedule('persist', productId, Math.floor(Date.now() / 1000) + 1);
  }

  private schedule(job: ProductJob, productId: string, sec: number): void {
    const jobId = `${job}-${sec}-${productId}`;
    if (this.scheduled.has(jobId)) return;
    this.prune();
    this.scheduled.set(jobId, sec);
    this.queues.add(job, { productId }, jobId, sec * 1000 - Date.now()).catch((err: unknown) => {
      this.scheduled.delete(jobId);
      this.logger.warn({ err, jobId }, 'could not schedule a job; the sweep will do its work');
    });
  }

  private prune(): void {
    const nowSec = Math.floor(Date.now() / 1000);
    if (nowSec === this.prunedAtSec) return;
    this.prunedAtSec = nowSec;
    for (const [id, sec] of this.scheduled) if (sec < nowSec) this.scheduled.delete(id);
  }
}
