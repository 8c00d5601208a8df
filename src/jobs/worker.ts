import { Worker, type Job } from 'bullmq';
import type { RedisClient } from '../redis/client.js';
import { withDeadline } from '../deadline.js';
import type { Engine } from '../engine/engine.js';
import { JOBS, QUEUES, type JobName, type JobPayload, type QueueName } from './catalog.js';

type Handlers = { [N in JobName]: (payload: JobPayload<N>) => Promise<unknown> };

/** What each job does; payloads are validated against the catalog before a handler sees them. */
function handlers(engine: Engine): Handlers {
  const { jobs } = engine.ctx;
  return {
    'expire-holds': ({ second }) => jobs.runDueTogether('expire-holds', second, (ids) => engine.expiry.holdsOf(ids)),
    'expire-orders': ({ second }) => jobs.runDue('expire-orders', second, (id) => engine.expiry.orders(id)),
    'admit-tickets': ({ second }) => jobs.runDue('admit-tickets', second, (id) => engine.admission.step(id)),
    'draw-raffle': ({ second }) => jobs.runDue('draw-raffle', second, (id) => engine.raffle.draw(id)),
    sweep: () => engine.sweep.run(),
    persist: ({ second }) => jobs.runDue('persist', second, (id) => engine.persistence.drain(id)),
    'deliver-event': ({ deliveryId, attempt }) => engine.outbound.attempt(deliveryId, attempt),
    'requeue-deliveries': () => engine.outbound.requeueOverdue(),
  };
}

/** BullMQ's repeatable jobs (the sweep, the deliveries' requeue): kept in Redis, so registered again after a loss. */
export async function registerSchedulers(engine: Engine): Promise<void> {
  const { config, queues } = engine.ctx;
  await queues.byName.expiry.upsertJobScheduler(
    'sweep',
    { every: config.SWEEP_INTERVAL_MS },
    { name: 'sweep', data: {}, opts: JOBS.sweep.options },
  );
  await queues.byName.outbound.upsertJobScheduler(
    'requeue-deliveries',
    { every: config.SWEEP_INTERVAL_MS },
    { name: 'requeue-deliveries', data: {}, opts: JOBS['requeue-deliveries'].options },
  );
}

export interface Workers {
  /** waits for the jobs under way, then closes */
  close(): Promise<void>;
  /**
   * Cuts the workers' connections off, for when `close` takes too long (a blocking connection can stay
   * wedged after a Redis restart): a job still held is taken over by another worker once its lock
   * expires, and every job is idempotent.
   */
  disconnect(): Promise<void>;
}

/**
 * Starts one BullMQ worker per queue, recovers the payments inbox, registers the periodic sweep, and
 * checks Redis's generation marker every SWEEP_INTERVAL_MS (Recovery).
 */
export async function startWorkers(engine: Engine, connection: RedisClient): Promise<Workers> {
  const { config, keys, logger } = engine.ctx;
  const table = handlers(engine);
  const processJob = async (job: Job) => {
    const name = job.name as JobName;
    const spec = JOBS[name];
    if (!spec) throw new Error(`unknown job ${job.name}`);
    const payload = spec.payload.parse(job.data);
    const work = (table[name] as (p: typeof payload) => Promise<unknown>)(payload);
    return withDeadline(work, spec.timeoutMs, () => new Error(`${job.name} timed out after ${spec.timeoutMs} ms`));
  };
  // deliveries mostly wait on receivers, so many run at once
  const concurrency: Record<QueueName, number> = { expiry: 4, persist: 8, outbound: 16 };
  const workers = (Object.values(QUEUES) as QueueName[]).map((queue) => {
    const worker = new Worker(queue, processJob, {
      connection,
      prefix: keys.queuePrefix,
      concurrency: concurrency[queue],
      lockDuration: config.JOB_LOCK_MS,
      stalledInterval: config.JOB_LOCK_MS,
    });
    worker.on('failed', (job, err) => logger.warn({ jobId: job?.id, job: job?.name, attempts: job?.attemptsMade, err: err.message }, 'job failed'));
    worker.on('error', (err) => logger.error({ err: err.message }, 'worker error'));
    return worker;
  });
  // payments acknowledged before a crash or a Redis loss are applied before the first sweep comes round
  engine.inbox.recover().then(
    (report) => logger.info(report, 'payments inbox recovered at start'),
    (err: unknown) => logger.warn({ err }, 'payments inbox recovery at start failed; the sweep tries again'),
  );
  await registerSchedulers(engine);
  engine.recovery.schedulers = () => registerSchedulers(engine);
  // a Redis that lost everything also lost the repeatable sweep: this timer, not a job, notices it
  const generation = setInterval(() => {
    engine.recovery.checkGeneration().catch((err: unknown) => logger.warn({ err }, 'Redis generation check failed; it runs again'));
  }, config.SWEEP_INTERVAL_MS);
  generation.unref();
  await engine.ctx.redis.set(keys.generation, String(Date.now()), 'NX');
  return {
    close: async () => {
      clearInterval(generation);
      await Promise.all(workers.map((w) => w.close()));
    },
    disconnect: async () => {
      clearInterval(generation);
      await Promise.all(workers.map((w) => w.disconnect()));
    },
  };
}
