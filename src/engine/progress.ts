import * as productRows from '../db/products.js';
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
    const progress = decode.progress(await commands.markProgress(this.ctx.redis, this.ctx.keys.product(id)));
    if (!progress) return;
    await productRows.recordProgress(this.ctx.sql, id, progress.seq, progress.mark);
    this.seqWritten.set(id, progress.seq);
  }

  /** Sweep: records the product's progress if it handed out ids since this process last recorded it. */
  async recordIfMoved(id: string): Promise<void> {
    const seq = Number(await this.ctx.redis.hget(this.ctx.keys.product(id).product, 'seq'));
    if (seq > (this.seqWritten.get(id) ?? 0)) await this.record(id);
  }
}
