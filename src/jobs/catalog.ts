import { z } from 'zod';
import type { JobsOptions } from 'bullmq';

/**
 * Every background job: its queue, payload schema and retry policy, in one place.
 * Expiry and persistence have their own queues so a Postgres outage (persist retries) never delays
 * stock coming back (expiry); outbound events have theirs so a slow receiver delays neither.
 */
export const QUEUES = { expiry: 'expiry', persist: 'persist', outbound: 'outbound' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

/** A product job: the products due in its second are in a Redis set (src/jobs/product-jobs.ts). */
const productPayload = z.object({ second: z.number().int().nonnegative() });

/**
 * A drain that has not finished by then fails and is retried: a query stuck on a half-dead Postgres
 * connection must not hold a worker slot (or shutdown) hostage. Retries are few (about a minute): while
 * the outbox is not empty the sweep schedules a fresh drain every interval, and failed ones stay visible.
 */
const PERSIST_TIMEOUT_MS = 30_000;

/** An expiry job (holds or orders): stock that comes back must not wait, so it is retried soon and often. */
const EXPIRY_JOB = {
  queue: QUEUES.expiry,
  payload: productPayload,
  timeoutMs: 60_000,
  options: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: 1000 },
} as const;

export const JOBS = {
  'expire-holds': EXPIRY_JOB,
  'expire-orders': EXPIRY_JOB,
  /** a waiting room's or raffle's admission step (src/engine/admission.ts) */
  'admit-tickets': {
    queue: QUEUES.expiry,
    payload: productPayload,
    timeoutMs: 60_000,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: 1000 },
  },
  /** a raffle's draw at its close (src/engine/raffle.ts); the seed comes from Postgres */
  'draw-raffle': {
    queue: QUEUES.expiry,
    payload: productPayload,
    timeoutMs: 60_000,
    options: { attempts: 6, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 },
  },
  sweep: {
    queue: QUEUES.expiry,
    payload: z.object({}),
    timeoutMs: 120_000,
    options: { removeOnComplete: true, removeOnFail: 100 },
  },
  persist: {
    queue: QUEUES.persist,
    payload: productPayload,
    timeoutMs: PERSIST_TIMEOUT_MS,
    options: { attempts: 6, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: 1000 },
  },
  /**
   * One attempt of one delivery (its retry schedule is the engine's, see src/outbound/outbound.ts); the
   * job's own retries only cover Postgres or Redis failing around it. A failed job is removed: its id
   * would otherwise stop the overdue check from adding it again.
   */
  'deliver-event': {
    queue: QUEUES.outbound,
    payload: z.object({ deliveryId: z.string(), attempt: z.number().int().positive() }),
    timeoutMs: 60_000,
    options: { attempts: 3, backoff: { type: 'exponential', delay: 1000 }, removeOnComplete: true, removeOnFail: true },
  },
  /** Re-adds the jobs of overdue deliveries (lost between a commit and its enqueue, or by a dead worker). */
  'requeue-deliveries': {
    queue: QUEUES.outbound,
    payload: z.object({}),
    timeoutMs: 60_000,
    options: { removeOnComplete: true, removeOnFail: 100 },
  },
} satisfies Record<string, { queue: QueueName; payload: z.ZodType; timeoutMs: number; options: JobsOptions }>;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;
