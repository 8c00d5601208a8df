import * as productRows from '../db/products.js';
import { batchWrites } from '../redis/client.js';
import { commands } from '../redis/commands.js';
import { decode } from '../redis/replies.js';
import type { EngineContext } from './context.js';

/**
 * How far Redis has got with a product, recorded in Postgres (docs/decisions/015): the record's progress
 * mark moves on in Redis first, then Postgres keeps it with the product's seq. A Redis that comes back
 * with a lower mark, or a seq below what Postgres has seen, is older than Postgres.
 */
export class Progress {
  /** product id -> the seq this process last recorded */
  private readonly seqWritten = new Map<string, number>();

  constructor(private readonly ctx: EngineContext) {}

  /** After a drain wrote records: every state it read is older than the mark Postgres now has. */
  async record(id: string): Promise<void> {
    await this.recordAll([id]);
  }

  /**
   * Sweep: records the progress of those of `ids` that handed out ids since this process last recorded
   * them, in one Postgres statement (a wide drop moves every product the sweep visits).
   */
  async recordIfMoved(ids: readonly string[]): Promise<void> {
    batchWrites(this.ctx.redis);
    const seqs = await Promise.all(ids.map((id) => this.ctx.redis.hget(this.ctx.keys.product(id).product, 'seq')));
    await this.recordAll(ids.filter((id, i) => Number(seqs[i]) > (this.seqWritten.get(id) ?? 0)));
  }

  /**
   * Reads the marks Postgres has, moves Redis's on and records them, with the products' rows locked
   * throughout: a rebuild writing Postgres's mark into a new record meanwhile would otherwise be
   * followed by the mark of the record it replaced, and the product found behind at its next check.
   */
  private async recordAll(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await this.ctx.sql.begin(async (tx) => {
      const recorded = await productRows.lockMarks(tx, ids);
      batchWrites(this.ctx.redis);
      const marked = await Promise.all(ids.map(async (id) => {
        const reply = await commands.markProgress(this.ctx.redis, this.ctx.keys.product(id), recorded.get(id) ?? 0);
        return { id, progress: decode.progress(reply) };
      }));
      const behind = marked.filter((m) => m.progress === 'behind').map((m) => m.id);
      // left for the check before the product is next served, which rebuilds it (Recovery)
      if (behind.length > 0) this.ctx.logger.warn({ productIds: behind }, 'Redis is behind Postgres: progress not recorded');
      const moved = marked.flatMap(({ id, progress }) => (progress && progress !== 'behind' ? [{ id, ...progress }] : []));
      await productRows.recordProgress(tx, moved);
      return moved;
    });
    for (const r of rows) this.seqWritten.set(r.id, r.seq);
  }
}
