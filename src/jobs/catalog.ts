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
    options: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: 1000 },
  },
  'expire-orders': {
    queue: QUEUES.expiry,
    payload: productPayload,
    options: { attempts: 5, backoff: { type: 'exponential', delay: 500 }, removeOnComplete: true, removeOnFail: 1000 },
  },
  sweep: {
    queue: QUEUES.expiry,
    payload: z.object({}),
    options: { removeOnComplete: true, removeOnFail: 100 },
  },
  'persist-order': {
    queue: QUEUES.persist,
    payload: z.object({ productId: z.string(), seq: z.string() }),
    options: persistOptions,
  },
  'persist-event': {
    queue: QUEUES.persist,
    payload: z.object({ productId: z.string(), eventId: z.string() }),
    options: persistOptions,
  },
} satisfies Record<string, { queue: QueueName; payload: z.ZodType; options: JobsOptions }>;

export type JobName = keyof typeof JOBS;
export type JobPayload<N extends JobName> = z.infer<(typeof JOBS)[N]['payload']>;
