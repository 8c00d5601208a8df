import { Queue } from 'bullmq';
import type { RedisClient } from '../redis/client.js';
import type { Logger } from 'pino';
import { JOBS, QUEUES, type JobName, type JobPayload, type QueueName } from './catalog.js';

/** Producer side of the job catalog: typed `add` with the catalog's options and a deterministic id. */
export class Queues {
  readonly byName: Record<QueueName, Queue>;

  constructor(connection: RedisClient, prefix: string, logger: Logger) {
    const make = (name: QueueName) => {
      const queue = new Queue(name, { connection, prefix, skipWaitingForReady: true });
      queue.on('error', (err) => logger.warn({ queue: name, err: err.message }, 'queue connection error'));
      return queue;
    };
    this.byName = { expiry: make(QUEUES.expiry), persist: make(QUEUES.persist), outbound: make(QUEUES.outbound) };
  }

  add<N extends JobName>(name: N, payload: JobPayload<N>, jobId: string, delayMs = 0): Promise<unknown> {
    const job = JOBS[name];
    return this.byName[job.queue].add(name, payload, { ...job.options, jobId, delay: Math.max(0, delayMs) });
  }

  /** Waiting + delayed + active + failed counts per queue (for /metrics and readiness). */
  async depths(): Promise<Record<QueueName, Record<string, number>>> {
    const entries = await Promise.all(
      Object.entries(this.byName).map(async ([name, q]) => [name, await q.getJobCounts('waiting', 'delayed', 'active', 'failed')] as const),
    );
    return Object.fromEntries(entries) as Record<QueueName, Record<string, number>>;
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.byName).map((q) => q.close()));
  }
}
