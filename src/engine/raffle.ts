import type { Draw } from '../contract.js';
import * as productRows from '../db/products.js';
import { bounded } from '../db/sql.js';
import { AppError } from '../errors.js';
import { commands } from '../redis/commands.js';
import { decode, ReplyCode } from '../redis/replies.js';
import type { EngineContext } from './context.js';
import { DRAW_ALGORITHM, drawOrder } from './raffle-draw.js';
import { toDomainError } from './refusals.js';

const isoOrNull = (ms: string | null | undefined) => (ms ? new Date(Number(ms)).toISOString() : null);

/**
 * The raffle. The protocol:
 * 1. Commit: when a product becomes a raffle its seed is fixed in Postgres, and sha256(seed) is public
 *    (GET /draw) from then on: the operator cannot pick another seed once entries are in.
 * 2. Enter (joinQueue): one ticket per customer, refused from raffle_closes_at on by Redis's clock, so the
 *    entries are final once Redis says the raffle closed.
 * 3. Draw (a job at the close, the sweep as safety net): the entries read after the close, sorted by
 *    HMAC-SHA256(seed, user id) (DRAW_ALGORITHM); drawRaffle stores that order, reveals the seed and gives
 *    the first entrants a one-unit hold each, atomically; a second draw (another worker) changes nothing.
 *    The holds are the sale's: a raffle that closes before the sale starts is drawn at the start, and one
 *    whose sale ended undrawn is not drawn.
 * 4. Waitlist: units that come back (a released or expired hold, a failed payment) go to the next
 *    entrants in draw order, in the admission step (admitTickets), while the sale is on; each customer
 *    appears once, so wins once.
 */
export class Raffle {
  constructor(
    private readonly ctx: EngineContext,
    /** loads a product Redis lacks from Postgres; false if it does not exist */
    private readonly loadProduct: (productId: string) => Promise<boolean>,
  ) {}

  /** Draws a closed raffle (nothing if it was drawn). Returns how many won the draw. */
  async draw(productId: string): Promise<number> {
    const { redis, keys, sql, config, jobs, logger } = this.ctx;
    const row = await bounded(productRows.find(sql, productId));
    if (!row?.raffle_seed) return 0;
    const k = keys.product(productId);
    const entries = await redis.hkeys(k.tickets);
    const order = drawOrder(row.raffle_seed, entries);
    const drawn = decode.drawRaffle(await commands.drawRaffle(redis, k, config.HOLD_TTL_MS, row.raffle_seed, order));
    if (!drawn.ok) {
      // (the sale has not started or has ended: the admission step draws once it is due)
      if (drawn.code === ReplyCode.NotQueued || drawn.code === ReplyCode.SaleNotStarted || drawn.code === ReplyCode.SaleEnded) return 0;
      throw toDomainError(drawn);
    }
    if (drawn.drawnNow) {
      if (drawn.expiresAt > 0) jobs.expireAt('expire-holds', productId, drawn.expiresAt);
      // the waitlist takes over units that come back
      jobs.admissionAt('admit-tickets', productId, Date.now() + 1000);
      // every entrant was told won or not selected
      jobs.persistSoon(productId);
      logger.info({ productId, entries: entries.length, winners: drawn.winners }, 'raffle drawn');
      logger.info({ event: 'raffle.won', productId, count: drawn.winners }, 'raffle.won');
      logger.info({ event: 'raffle.not_selected', productId, count: entries.length - drawn.winners }, 'raffle.not_selected');
    }
    return drawn.winners;
  }

  /** The public record of the draw: the commitment before, the seed and the order after. */
  async view(productId: string): Promise<Draw> {
    const { redis, keys } = this.ctx;
    const k = keys.product(productId);
    const fields = ['admission', 'raffle_closes_at', 'raffle_commit', 'r_drawn', 'r_seed', 'r_winners'] as const;
    let f = await redis.hmget(k.product, ...fields);
    if (f[0] === null) {
      if (!(await this.loadProduct(productId))) throw new AppError('product_not_found');
      f = await redis.hmget(k.product, ...fields);
    }
    const [admission, closesAt, commit, drawnAt, seed, winners] = f;
    if (admission !== 'raffle' || !closesAt || !commit) throw new AppError('not_queued', 'this product is not a raffle');
    const [entries, order] = await Promise.all([redis.hlen(k.tickets), drawnAt ? redis.lrange(k.draw, 0, -1) : Promise.resolve(null)]);
    return {
      product_id: productId,
      closes_at: new Date(Number(closesAt)).toISOString(),
      commitment: commit,
      seed: drawnAt ? seed! : null,
      entries,
      winners: drawnAt ? Number(winners) : null,
      drawn_at: isoOrNull(drawnAt),
      order,
      algorithm: DRAW_ALGORITHM,
    };
  }
}
