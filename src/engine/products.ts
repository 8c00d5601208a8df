import { randomBytes } from 'node:crypto';
import type { ChainableCommander } from 'ioredis';
import type { Logger } from 'pino';
import type {
  AdminProduct,
  AdmissionStats,
  CreateProductBody as ProductInput,
  PatchProductBody as ProductPatch,
  Product as ProductView,
  Stock as StockBreakdown,
} from '../contract.js';
import * as orderRows from '../db/orders.js';
import * as productRows from '../db/products.js';
import type { ProductRow } from '../db/products.js';
import { bounded, Deadline, type Db } from '../db/sql.js';
import { AppError, invalidRequest } from '../errors.js';
import { commands } from '../redis/commands.js';
import type { EngineContext } from './context.js';
import { decode } from '../redis/replies.js';
import { toDomainError } from './refusals.js';
import { commitment, newSeed } from './raffle-draw.js';

/**
 * Ids a product may have handed out since the sweep last recorded its high-water mark in Postgres
 * (about 2 million holds a second at the default sweep interval): a Redis that lost its data starts
 * this far above the mark.
 */
const SEQ_MARGIN = 10_000_000;

const FIELDS = ['name', 'price', 'currency', 'available', 'starts_at', 'ends_at', 'limit', 'total', 'held', 'pending', 'sold',
  'admission', 'admission_window_ms', 'admission_headroom', 'raffle_closes_at'] as const;

const DEFAULT_ADMISSION_WINDOW_S = 120;

/** The record's fields upsertProduct sets from its arguments, by position (null: the total, and what only a new record takes). */
const SETTING_FIELDS = ['name', 'price', 'currency', null, 'starts_at', 'ends_at', 'limit', null, null, null,
  'admission', 'admission_window_ms', 'admission_headroom', 'raffle_closes_at', 'raffle_commit', 'hold_events'] as const;

/** A raffle's seed is fixed as soon as a product is one (its commitment is public from then on). */
const seedFor = (admission: ProductRow['admission'], seed: string | null) => seed ?? (admission === 'raffle' ? newSeed() : null);

/** Units pending or sold and the seq new ids start above, for a product record Redis has to build. */
interface Committed {
  pending: number;
  sold: number;
  seq: number;
}

/** A new product: nothing is committed yet and its ids start at 1. */
const NOTHING_COMMITTED: Committed = { pending: 0, sold: 0, seq: 0 };

const msOrEmpty = (d: Date | null) => (d ? d.getTime() : '');
const isoOrNull = (ms: string | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);

type RedisFields = Record<(typeof FIELDS)[number], string | undefined>;
/** What a MULTI's EXEC answers: an error or a result per command. */
export type ExecResults = [error: Error | null, result: unknown][];

function viewOf(id: string, f: RedisFields): ProductView {
  return {
    id,
    name: f.name!,
    unit_price_minor: Number(f.price),
    currency: f.currency!,
    available: Number(f.available),
    sale_starts_at: isoOrNull(f.starts_at),
    sale_ends_at: isoOrNull(f.ends_at),
    per_user_limit: f.limit ? Number(f.limit) : null,
    ...admissionView(f),
  };
}

function stockOf(f: RedisFields): StockBreakdown {
  return {
    total: Number(f.total),
    available: Number(f.available),
    held: Number(f.held),
    pending_payment: Number(f.pending),
    sold: Number(f.sold),
  };
}

/** A waiting room's or raffle's settings for the product's view; nothing for an open product. */
function admissionView(f: RedisFields): Pick<ProductView, 'admission' | 'admission_window_s' | 'raffle_closes_at'> {
  if (f.admission !== 'queue' && f.admission !== 'raffle') return {};
  return {
    admission: f.admission,
    admission_window_s: Number(f.admission_window_ms) / 1000,
    raffle_closes_at: isoOrNull(f.raffle_closes_at),
  };
}

/** How long an id that Postgres does not know is answered 404 without asking Postgres again. */
const UNKNOWN_TTL_MS = 1_000;

/**
 * Products live in Postgres; Redis has a copy with the live counters. A change is committed in
 * Postgres first and then written to Redis, so a commit that fails leaves nothing behind in Redis.
 * The one exception is stock that leaves: it is taken out of Redis before the commit, because only
 * Redis can refuse it atomically against what is held, pending or sold; if the commit then fails,
 * Redis gets Postgres's row back. Every Redis write of a change is made holding the product's row
 * lock, so concurrent changes reach Redis in commit order.
 */
export class Products {
  /** product id -> until when it is known not to exist (bounds Postgres lookups for unknown ids) */
  private readonly unknownUntil = new Map<string, number>();
  /** a waiting room's or raffle's state for the admin view (set by the engine) */
  admissionStats: (id: string) => Promise<AdmissionStats | null> = () => Promise.resolve(null);
  /** whether the product's scripts write hold notices, read in a load's transaction (set by the engine) */
  holdEvents: (tx: Db) => Promise<boolean> = () => Promise.resolve(false);
  /** checks the product Redis has against Postgres, rebuilding it if need be; false if unknown (set by the engine: Recovery) */
  ensure: (id: string) => Promise<boolean> = () => Promise.resolve(false);
  /** a product this process created, its Redis record fresh from Postgres (set by the engine) */
  created: (id: string) => void = () => {};

  constructor(private readonly ctx: EngineContext) {}

  /**
   * Creates a product in Postgres and Redis. The caller waits at most Postgres's deadline: an insert
   * that has not committed by then rolls back (`Deadline`).
   */
  create(input: ProductInput, log: Logger = this.ctx.logger): Promise<AdminProduct> {
    const deadline = new Deadline();
    return deadline.wait(this.createBefore(deadline, input, log));
  }

  private async createBefore(deadline: Deadline, input: ProductInput, log: Logger): Promise<AdminProduct> {
    const id = input.id ?? `p${randomBytes(9).toString('base64url').replaceAll(/[^A-Za-z0-9]/g, '0')}`;
    const row = await this.ctx.sql.begin(async (tx) => {
      const inserted = await productRows.insert(tx, {
        id,
        name: input.name,
        unit_price_minor: input.unit_price_minor,
        currency: input.currency,
        stock: input.stock,
        sale_starts_at: input.sale_starts_at ?? null,
        sale_ends_at: input.sale_ends_at ?? null,
        per_user_limit: input.per_user_limit ?? null,
        admission: input.admission ?? 'open',
        admission_window_s: input.admission_window_s ?? DEFAULT_ADMISSION_WINDOW_S,
        admission_headroom: input.admission_headroom ?? 0,
        raffle_closes_at: input.raffle_closes_at ?? null,
        raffle_seed: seedFor(input.admission ?? 'open', null),
      });
      deadline.check();
      return inserted;
    });
    deadline.made();
    if (!row) throw new AppError('product_exists', `product ${id} exists`);
    // (should this write fail, the product is loaded into Redis when first asked for, like after a Redis restart)
    if (await this.syncCommitted(id, log, NOTHING_COMMITTED)) this.created(id);
    log.info({ productId: id, stock: input.stock }, 'product created');
    return this.adminView(id);
  }

  /**
   * Changes a product in Postgres and Redis; lowering stock below what is committed is refused. The
   * caller waits at most Postgres's deadline: a change that has not committed by then rolls back.
   * (Should Redis not get the committed row in time, the answer may show it as before the change.)
   */
  patch(id: string, patch: ProductPatch, log: Logger = this.ctx.logger): Promise<AdminProduct> {
    const deadline = new Deadline();
    return deadline.wait(this.patchBefore(deadline, id, patch, log));
  }

  private async patchBefore(deadline: Deadline, id: string, patch: ProductPatch, log: Logger): Promise<AdminProduct> {
    let redisWritten = false;
    try {
      await this.ctx.sql.begin(async (tx) => {
        const cur = await productRows.lock(tx, id);
        if (!cur) throw new AppError('product_not_found');
        const next = {
          name: patch.name ?? cur.name,
          unit_price_minor: patch.unit_price_minor ?? Number(cur.unit_price_minor),
          stock: patch.stock ?? cur.stock,
          sale_starts_at: patch.sale_starts_at !== undefined ? patch.sale_starts_at : cur.sale_starts_at,
          sale_ends_at: patch.sale_ends_at !== undefined ? patch.sale_ends_at : cur.sale_ends_at,
          per_user_limit: patch.per_user_limit !== undefined ? patch.per_user_limit : cur.per_user_limit,
          admission: patch.admission ?? cur.admission,
          admission_window_s: patch.admission_window_s ?? cur.admission_window_s,
          admission_headroom: patch.admission_headroom ?? cur.admission_headroom,
          raffle_closes_at: patch.raffle_closes_at !== undefined ? patch.raffle_closes_at : cur.raffle_closes_at,
          raffle_seed: seedFor(patch.admission ?? cur.admission, cur.raffle_seed),
        };
        if (next.admission === 'raffle' && !next.raffle_closes_at) {
          throw invalidRequest([{ path: ['raffle_closes_at'], message: 'a raffle needs raffle_closes_at' }]);
        }
        const [starts, ends] = [next.sale_starts_at, next.sale_ends_at].map((t) => (t ? new Date(t).getTime() : null));
        if (starts != null && ends != null && ends <= starts) {
          throw invalidRequest([{ path: ['sale_ends_at'], message: 'must be after sale_starts_at' }]);
        }
        await productRows.update(tx, id, next);
        // before the commit Redis gets only the stock that leaves (refused there if it is committed),
        // with the committed row's other values: nothing a failed commit could leave wrong
        deadline.check();
        await this.load(tx, { ...cur, stock: Math.min(cur.stock, next.stock) });
        redisWritten = true;
        deadline.check();
      });
      deadline.made();
    } catch (err) {
      if (redisWritten) await this.syncFromPostgres(id).catch((syncErr: unknown) => {
        // Redis keeps at most less stock than Postgres until the next change or reconcile
        log.error({ err: syncErr, productId: id }, 'could not give Redis back the product Postgres has');
      });
      throw err;
    }
    await this.syncCommitted(id, log);
    log.info({ productId: id, patch }, 'product changed');
    return this.adminView(id);
  }

  async publicView(id: string): Promise<ProductView> {
    return viewOf(id, await this.readRedis(id));
  }

  /**
   * The product and its stock from one read of its record, so both show the same moment; the line or
   * raffle is read only for a product that has one (the dashboard asks for every product each second).
   */
  async adminView(id: string): Promise<AdminProduct> {
    const f = await this.readRedis(id);
    const admissionStats = f.admission === 'queue' || f.admission === 'raffle' ? await this.admissionStats(id) : null;
    const admission = admissionStats ? { admission_headroom: Number(f.admission_headroom ?? 0), admission_stats: admissionStats } : {};
    return { ...viewOf(id, f), stock: stockOf(f), ...admission };
  }

  async stock(id: string): Promise<StockBreakdown> {
    return stockOf(await this.readRedis(id));
  }

  /**
   * The product's row in Postgres, or null. An id Postgres did not have is not asked for again for a
   * while: requests for unknown ids (a public route) cost no query each.
   */
  async row(id: string): Promise<ProductRow | null> {
    if ((this.unknownUntil.get(id) ?? 0) > Date.now()) return null;
    const row = await bounded(productRows.find(this.ctx.sql, id));
    if (!row) {
      if (this.unknownUntil.size >= 10_000) this.unknownUntil.clear();
      this.unknownUntil.set(id, Date.now() + UNKNOWN_TTL_MS);
    }
    return row;
  }

  /**
   * Replaces the product's Redis record with what Postgres has committed, in one transaction with what
   * `write` queues after it (the product's other keys, and what is applied to them): nothing reads a
   * half-built product. The record's progress mark is Postgres's, its seq beyond every id handed out.
   * The transaction is built on the watch connection and run by `exec`. Answers the replies to what
   * `write` queued, or null when `exec` did not run it, and nothing was written.
   */
  async rebuild(db: Db, row: ProductRow, write: (tx: ChainableCommander) => void, exec: (tx: ChainableCommander) => Promise<ExecResults | null>): Promise<ExecResults | null> {
    const committed = await this.committedInPostgres(db, row);
    const holdEvents = await this.holdEvents(db);
    const k = this.ctx.keys.product(row.id);
    const tx = this.ctx.watchRedis.multi();
    // the counters start over from Postgres's figures, and the TTLs the queues were placed with are not
    // known (lua/includes/ttls.lua); the waiting room's and raffle's fields stay, in step with the line,
    // tickets and draw they index (the rebuild keeps those)
    tx.hdel(k.product, 'available', 'held', 'pending', 'sold', 'seq', 'idem_day', 'mark', 'hold_ttl', 'pay_ttl');
    commands.queueUpsertProduct(tx, k, ...this.upsertArgs(row, committed, holdEvents));
    tx.hset(k.product, 'mark', row.redis_mark);
    write(tx);
    const results = await exec(tx);
    if (!results) return null;
    const failed = results.find(([err]) => err);
    if (failed) throw failed[0]!;
    const reply = decode.upsertProduct(results[1]![1] as (string | number)[]);
    if (!reply.ok) throw toDomainError(reply);
    this.unknownUntil.delete(row.id);
    await this.ctx.redis.sadd(this.ctx.keys.productIndex, row.id);
    return results.slice(3);
  }

  /**
   * The settings (what a change writes besides the total, and the hold-events switch) in which the
   * product's Redis record differs from `row`, by their names in the record. `tx` holds the row lock.
   */
  async settingsDrift(tx: Db, row: ProductRow): Promise<string[]> {
    const args = this.upsertArgs(row, NOTHING_COMMITTED, await this.holdEvents(tx));
    const settings = SETTING_FIELDS.flatMap((field, i) => (field ? [{ field, value: String(args[i]) }] : []));
    const values = await this.ctx.redis.hmget(this.ctx.keys.product(row.id).product, ...settings.map((s) => s.field));
    return settings.filter((s, i) => values[i] !== s.value).map((s) => s.field);
  }

  private async readRedis(id: string): Promise<RedisFields> {
    const key = this.ctx.keys.product(id).product;
    let values = await this.ctx.redis.hmget(key, ...FIELDS);
    if (values[0] === null) {
      if (!(await this.ensure(id))) throw new AppError('product_not_found');
      values = await this.ctx.redis.hmget(key, ...FIELDS);
    }
    return Object.fromEntries(FIELDS.map((f, i) => [f, values[i] ?? undefined])) as RedisFields;
  }

  /**
   * What a Redis record that has to be (re)built starts from: the units Postgres knows as pending or
   * sold, and a seq beyond every id that may have been handed out (orders in Postgres, and the
   * high-water mark plus a margin). Used only when Redis lacks the product.
   */
  private async committedInPostgres(db: Db, product: ProductRow): Promise<Committed> {
    const { pending, sold, maxSeq } = await bounded(orderRows.committedUnits(db, product.id));
    return { pending, sold, seq: Math.max(maxSeq, Number(product.seq_high_water)) + SEQ_MARGIN };
  }

  /** upsertProduct's arguments (lua/upsertProduct-1.lua) for a product row. */
  private upsertArgs(row: ProductRow, committed: Committed, holdEvents: boolean): (string | number)[] {
    return [
      row.name, row.unit_price_minor, row.currency, row.stock,
      msOrEmpty(row.sale_starts_at), msOrEmpty(row.sale_ends_at), row.per_user_limit ?? '',
      committed.pending, committed.sold, committed.seq,
      row.admission, row.admission_window_s * 1000, row.admission_headroom, msOrEmpty(row.raffle_closes_at),
      row.raffle_seed ? commitment(row.raffle_seed) : '',
      holdEvents ? '1' : '',
    ];
  }

  /**
   * After a change committed: Redis gets the product's row, waited for at most Postgres's deadline (the
   * write goes on). Should it fail, the product is loaded when Redis lacks it, and a reconcile repairs a
   * record it left behind. True once written.
   */
  private async syncCommitted(id: string, log: Logger, committed?: Committed): Promise<boolean> {
    try {
      await bounded(this.syncFromPostgres(id, committed));
      return true;
    } catch (err) {
      log.warn({ err, productId: id }, 'change committed, its Redis copy not written in time');
      return false;
    }
  }

  /** Writes to Redis what Postgres has committed for a product, holding its row lock (see the class comment). */
  private async syncFromPostgres(id: string, committed?: Committed): Promise<void> {
    await this.ctx.sql.begin(async (tx) => {
      const row = await productRows.lock(tx, id);
      if (row) await this.load(tx, row, committed);
    });
  }

  /**
   * Writes a product to Redis; what is committed comes from Postgres unless the caller knows it. `db`
   * is the caller's transaction when it holds one: a second connection per load could exhaust the pool
   * with every connection held by a load waiting for another. A caller outside this class holds the
   * product's row lock (see the class comment).
   */
  async load(db: Db, row: ProductRow, committed?: Committed): Promise<void> {
    committed ??= await this.committedInPostgres(db, row);
    const args = this.upsertArgs(row, committed, await this.holdEvents(db));
    const reply = decode.upsertProduct(await commands.upsertProduct(this.ctx.redis, this.ctx.keys.product(row.id), ...args));
    if (!reply.ok) throw toDomainError(reply);
    this.unknownUntil.delete(row.id);
    await this.ctx.redis.sadd(this.ctx.keys.productIndex, row.id);
  }
}
