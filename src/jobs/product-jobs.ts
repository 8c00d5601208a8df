import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { forEachConcurrently } from '../concurrently.js';
import type { RedisClient } from '../redis/client.js';
import type { Keys } from '../redis/keys.js';
import type { Queues } from './queues.js';

export type ProductJob = 'expire-holds' | 'expire-orders' | 'persist' | 'admit-tickets' | 'draw-raffle';

/** A second's set outlives its job by far; it only bounds what a lost job could leave behind. */
const DUE_SET_TTL_S = 86_400;
/** Products a job works on at once. */
const JOB_CONCURRENCY = 8;
/** Times a job looks again for products added while it ran, before leaving them to the sweep. */
const JOB_ROUNDS = 3;
/**
 * Work due later than this is sent to Redis up to FLUSH_WITHIN_MS after it was scheduled, with the rest
 * of that time's: a drop spread over many products schedules a few new products' expiry in nearly every
 * event-loop turn, and a round trip per turn cost the engine as much as the products' holds' own calls.
 */
const SOON_MS = 2000;
const FLUSH_WITHIN_MS = 100;
/**
 * Longest a job waits for Redis's clock to reach its second (see runDueTogether); a host clock further
 * ahead than this is logged, and what was not due yet is left to the sweep.
 */
const CLOCK_WAIT_MAX_MS = 10_000;

/** What work on a job's products did: the products done, and the errors of those that failed. */
export interface WorkDone {
  done: string[];
  failed: { productIds: string[]; err: unknown }[];
}

/**
 * `work` for each item, `limit` at a time (forEachConcurrently), the products of an item (`productIds`)
 * done when its work resolves and failed, with its error, when it throws.
 */
export async function workOnEach<T>(items: Iterable<T>, limit: number, productIds: (item: T) => string[], work: (item: T) => Promise<unknown>): Promise<WorkDone> {
  const result: WorkDone = { done: [], failed: [] };
  await forEachConcurrently(items, limit, async (item) => {
    try {
      await work(item);
      result.done.push(...productIds(item));
    } catch (err) {
      result.failed.push({ productIds: productIds(item), err });
    }
  });
  return result;
}

interface Due {
  job: ProductJob;
  sec: number;
  products: Set<string>;
}

/**
 * Schedules product work by the second: a product due at second S joins the Redis set of (job, S), and
 * ONE job per (job, S) works through every product in it, however many products there are. (A job per
 * product and second cost about 40 µs of engine CPU and 28 µs of Redis per job added, as much as a hold
 * itself once a drop spreads over thousands of products with a hold or two a second each; a set member
 * costs about 2 and 1.) What is due within SOON_MS goes to Redis at the end of the event-loop turn that
 * scheduled it, later work within FLUSH_WITHIN_MS, each flush in one round trip, set members before
 * their job; job ids are deterministic, so other processes scheduling the same second are
 * deduplicated by BullMQ, and this process remembers what it sent. A product added after its second's
 * job finished, or a lost job, is covered by the periodic sweep.
 */
export class ProductJobs {
  /**
   * job -> product id -> the second this process last scheduled the product for: a product's seconds
   * grow (this process's TTLs are constant, persistence takes the next second), so one entry per product
   * skips the repeats, however many seconds ahead a job is due
   */
  private readonly lastScheduled = new Map<ProductJob, Map<string, number>>();
  /** `${job}-${sec}` whose job this process has added */
  private readonly jobsAdded = new Map<string, number>();
  /** what was scheduled and not sent yet, by `${job}-${sec}` */
  private readonly pending = new Map<string, Due>();
  /** the flush is queued for the end of this turn, or a timer will send it */
  private flushQueued: 'turn' | NodeJS.Timeout | null = null;
  private prunedAtSec = 0;

  constructor(
    private readonly queues: Queues,
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly logger: Logger,
  ) {}

  /** Expiry: at the first second boundary at or after `dueAtMs`. */
  expireAt(job: 'expire-holds' | 'expire-orders', productId: string, dueAtMs: number): void {
    this.schedule(job, productId, Math.ceil(dueAtMs / 1000));
  }

  /** A waiting room's or raffle's next step (admission, draw) at the first second boundary at or after `atMs`. */
  admissionAt(job: 'admit-tickets' | 'draw-raffle', productId: string, atMs: number): void {
    this.schedule(job, productId, Math.ceil(atMs / 1000));
  }

  /** Persistence: at the end of the current second, all of this second's changes at once. */
  persistSoon(productId: string): void {
    this.schedule('persist', productId, Math.floor(Date.now() / 1000) + 1);
  }

  /**
   * Job: `work` for every product due in (job, second), a few at a time; each leaves the set once its
   * work is done, and products added meanwhile are done too. Throws (the job is retried) if any failed.
   */
  runDue(job: ProductJob, sec: number, work: (productId: string) => Promise<unknown>): Promise<number> {
    return this.runDueTogether(job, sec, (products) => workOnEach(products, JOB_CONCURRENCY, (productId) => [productId], work));
  }

  /** runDue with the products of a round handed to `work` together, for work that shares calls among them. */
  async runDueTogether(job: ProductJob, sec: number, work: (productIds: string[]) => Promise<WorkDone>): Promise<number> {
    // BullMQ runs a delayed job by the host's clock, and its products leave the set once worked on; what
    // falls due by Redis's clock (holds, orders, admission steps) must not find itself not due yet
    if (job !== 'persist') await this.untilRedisReaches(job, sec * 1000);
    const set = this.keys.dueProducts(job, sec);
    let done = 0;
    for (let round = 0; round < JOB_ROUNDS; round++) {
      const products = await this.redis.smembers(set);
      if (products.length === 0) break;
      const result = await work(products);
      if (result.done.length > 0) await this.redis.srem(set, ...result.done);
      done += result.done.length;
      for (const { productIds, err } of result.failed) this.logger.warn({ err, job, productIds }, 'product job failed; the job is retried');
      if (result.failed.length > 0) throw result.failed[0]!.err;
    }
    return done;
  }

  private async untilRedisReaches(job: ProductJob, ms: number): Promise<void> {
    const [sec, usec] = await this.redis.time();
    const early = ms - (Number(sec) * 1000 + Math.floor(Number(usec) / 1000));
    if (early <= 0) return;
    if (early > CLOCK_WAIT_MAX_MS) {
      this.logger.warn({ job, earlyMs: early }, "this host's clock is ahead of Redis's: the job runs now, and the sweep does what was not due yet");
      return;
    }
    await sleep(early);
  }

  private schedule(job: ProductJob, productId: string, sec: number): void {
    let last = this.lastScheduled.get(job);
    if (!last) this.lastScheduled.set(job, (last = new Map()));
    if (last.get(productId) === sec) return;
    this.prune();
    last.set(productId, sec);
    const key = `${job}-${sec}`;
    let due = this.pending.get(key);
    if (!due) this.pending.set(key, (due = { job, sec, products: new Set() }));
    due.products.add(productId);
    if (this.flushQueued === 'turn') return;
    if (sec * 1000 - Date.now() <= SOON_MS) {
      if (this.flushQueued) clearTimeout(this.flushQueued);
      this.flushQueued = 'turn';
      setImmediate(() => void this.flush());
    } else if (!this.flushQueued) {
      this.flushQueued = setTimeout(() => void this.flush(), FLUSH_WITHIN_MS);
    }
  }

  /** Sends what was scheduled and not sent yet (at shutdown, what a timer would have sent later). */
  async flush(): Promise<void> {
    if (this.flushQueued && this.flushQueued !== 'turn') clearTimeout(this.flushQueued);
    this.flushQueued = null;
    if (this.pending.size === 0) return;
    const dues = [...this.pending.values()];
    this.pending.clear();
    const pipeline = this.redis.pipeline();
    for (const d of dues) {
      const set = this.keys.dueProducts(d.job, d.sec);
      pipeline.sadd(set, ...d.products);
      pipeline.expire(set, DUE_SET_TTL_S);
    }
    await pipeline
      .exec()
      .then((results) => {
        const error = results?.find(([err]) => err)?.[0];
        if (error) throw error;
        return Promise.all(dues.map((d) => this.addJob(d)));
      })
      .catch((err: unknown) => {
        for (const d of dues) {
          const last = this.lastScheduled.get(d.job)!;
          for (const p of d.products) if (last.get(p) === d.sec) last.delete(p);
        }
        this.logger.warn({ err }, 'could not schedule product jobs; the sweep will do their work');
      });
  }

  /**
   * The second's job, once per process while the second is ahead; a second already begun asks again
   * each time (its job may have finished: adding it then starts another, and is a no-op while it waits).
   */
  private async addJob(d: Due): Promise<void> {
    const key = `${d.job}-${d.sec}`;
    const ahead = d.sec * 1000 > Date.now();
    if (ahead && this.jobsAdded.has(key)) return;
    await this.queues.add(d.job, { second: d.sec }, key, d.sec * 1000 - Date.now());
    if (ahead) this.jobsAdded.set(key, d.sec);
  }

  private prune(): void {
    const nowSec = Math.floor(Date.now() / 1000);
    if (nowSec === this.prunedAtSec) return;
    this.prunedAtSec = nowSec;
    for (const last of this.lastScheduled.values()) for (const [productId, sec] of last) if (sec < nowSec) last.delete(productId);
    for (const [id, sec] of this.jobsAdded) if (sec < nowSec) this.jobsAdded.delete(id);
  }
}
