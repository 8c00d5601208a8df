import type { Sql } from 'postgres';
import { Histogram } from '../../loadtests/lib/histogram.js';
import type { PaidLine } from './checkout.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until the product has `count` orders in the engine's Postgres; returns the seconds it took. */
export async function waitForOrders(sql: Sql, productId: string, count: number, timeoutMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const [row] = await sql<{ n: number }[]>`SELECT count(*)::int AS n FROM orders WHERE product_id = ${productId}`;
    if (row!.n >= count) return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutMs) throw new Error(`only ${row!.n} of ${count} orders in Postgres after ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

export interface LagResult {
  /** webhooks answered 200 applied */
  applied: number;
  /** of those, orders seen with status 'paid' in Postgres */
  seen: number;
  p50: number;
  p99: number;
  max: number;
  /** the mean time between two polls, ms: the resolution of the lags */
  pollMs: number;
}

/**
 * Paid-order visibility in Postgres: told (by the webhook driver's lines) when each webhook was answered,
 * it polls the engine's `orders` table for those ids and records, per order, the time from the 200 to
 * the first poll that sees it `paid`. A poll's snapshot is taken when it starts, so each lag is an upper
 * bound, late by at most one poll interval.
 */
export class PaidLagTracker {
  private readonly pending = new Map<string, number>();
  private readonly lags = new Histogram();
  private applied = 0;
  private polls = 0;
  private pollingMs = 0;
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(private readonly sql: Sql, private readonly minIntervalMs = 10) {
    this.loop = this.poll();
  }

  /** A line of the webhook driver; lines that are not a `PaidLine` are ignored. */
  onLine(line: string): void {
    if (!line.startsWith('{"paid":')) return;
    const { paid, t } = JSON.parse(line) as PaidLine;
    this.pending.set(paid, t);
    this.applied += 1;
  }

  private async poll(): Promise<void> {
    while (!this.stopped) {
      const at = Date.now();
      const ids = [...this.pending.keys()];
      if (ids.length > 0) {
        const rows = await this.sql<{ id: string }[]>`SELECT id FROM orders WHERE status = 'paid' AND id = ANY(${ids})`;
        this.polls += 1;
        for (const { id } of rows) {
          this.lags.record(at - this.pending.get(id)!);
          this.pending.delete(id);
        }
      }
      await sleep(Math.max(1, this.minIntervalMs - (Date.now() - at)));
      if (ids.length > 0) this.pollingMs += Date.now() - at;
    }
  }

  /** Waits until every paid order was seen (or `timeoutMs` passed) and stops polling. */
  async finish(timeoutMs: number): Promise<LagResult> {
    const deadline = Date.now() + timeoutMs;
    while (this.pending.size > 0 && Date.now() < deadline) await sleep(20);
    this.stopped = true;
    await this.loop;
    const h = this.lags;
    return {
      applied: this.applied,
      seen: h.count,
      p50: h.percentile(50),
      p99: h.percentile(99),
      max: h.max,
      pollMs: this.pollingMs / Math.max(1, this.polls),
    };
  }
}
