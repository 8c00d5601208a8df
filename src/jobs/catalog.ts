import { z } from 'zod';
import type { JobsOptions } from 'bullmq';

/**
 * Every background job: its queue, payload schema and retry policy, in one place.
 * Expiry and persistence have their own queues so a Postgres outage (persist retries) never delays
 * stock coming back (expiry).
 */
export const QUEUES = { expiry: 'expiry', persist: 'persist' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

const productPayload = z.object({ productId: z.string() });

/**
 * A write that has not finished by then fails and is retried: a query stuck on a half-dead Postgres
 * connection must not hold a worker slot (or shutdown) hostage.
 */
const PERSIST_TIMEOUT_MS = 10_000;

/** About 17 minutes of retries (0.5 s doubling, capped by attempts); then the sweep retries failed jobs. */
const persistOptions: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: true,
  removeOnFail: 5000,
};

export const JOBS = {
  'expire-holds': {
    queue: QUEUES.expiry,
    payload: productPayload,
    timeoutMs: 60_000,
    options: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: 1000 },
  },
  'expire-orders': {
    queue: QUEUES.expiry,
    payload: productPayload,
    timeoutMs: 60_000,
    options: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: 1000 },
  },
  sweep: {
    queue: QUEUES.expiry,
    payload: z.object({}),
    timeoutMs: 120_000,
    options: { removeOnComplete: true, removeOnFail: 100 },
  },
  'persist-order': {
    queue: QUEUES.persist,
    payload: z.object({ productId: z.string(), seq: z.string() }),
    timeoutMs: PERSIST_TIMEOUT_MS,
    options: persistOptions,
  },
  'persist-event': {
    queue: QUEUES.persist,
    payload: z.object({ productId: z.string(), eventId: z.string() }),
    timeoutMs: PERSIST_TIMEOUT_MS,
    options: persistOptions,
  },
} satisfies Record<string, { queue: QueueName; payload: z.ZodType; timeoutMs: number; options: JobsOptions }>;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;
