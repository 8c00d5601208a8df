import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { LIVE_PRODUCTS_SHOWN, type LivePoint, type LiveRoute, type LiveSnapshot } from '../../contract.js';
import { LATENCY_BUCKETS, type Metrics } from '../metrics.js';
import type { EngineStatus, EngineStatusReader } from './engine-status.js';
import { quantile } from './quantile.js';
import { readTotals, type Totals } from './totals.js';

const TICK_MS = 1_000;
/** five minutes of sparkline points */
const HISTORY_POINTS = 300;
/** route latency and rates are taken over this many ticks: steadier than one second, still live */
const LATENCY_WINDOW_TICKS = 10;

/** One open stream: gets each snapshot's serialized JSON, and is ended when the feed closes. */
export interface LiveListener {
  send(snapshot: string): void;
  end(): void;
}

/** The products a snapshot shows, listed in id order: chosen among those with hold requests in the last second first, then the others by id. */
function shownProducts(status: EngineStatus): EngineStatus['products'] {
  if (status.products.length <= LIVE_PRODUCTS_SHOWN) return status.products;
  const shown = new Set(status.active.slice(0, LIVE_PRODUCTS_SHOWN));
  for (const p of status.products) {
    if (shown.size >= LIVE_PRODUCTS_SHOWN) break;
    shown.add(p.id);
  }
  return status.products.filter((p) => shown.has(p.id));
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
const ms = (ns: number) => round(ns / 1e6, 3);

/**
 * The live dashboard's data: one snapshot a second, built once and sent to every open stream. It runs
 * only while someone watches (the first stream starts it, the last one stops it), so an engine nobody
 * watches pays nothing, and a hundred open pages cost what one does.
 */
export class LiveFeed {
  private readonly listeners = new Set<LiveListener>();
  private timer: NodeJS.Timeout | null = null;
  private loopDelay: IntervalHistogram | null = null;
  private ticking = false;
  /** the totals of the last ticks, oldest first */
  private totals: Totals[] = [];
  private history: LivePoint[] = [];
  private latest: string | null = null;

  constructor(
    private readonly metrics: Metrics,
    private readonly status: EngineStatusReader,
    private readonly logger: Logger,
  ) {}

  /** Adds a stream; returns how to remove it. The stream gets the latest snapshot at once, if there is one. */
  subscribe(listener: LiveListener): () => void {
    this.listeners.add(listener);
    if (this.latest) listener.send(this.latest);
    if (!this.timer) this.start();
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.stop();
    };
  }

  /** The sparkline points so far, oldest first, as JSON (the `LiveHistory` schema). */
  historyJson(): string {
    return JSON.stringify(this.history);
  }

  /** Ends every open stream (at shutdown, so that no dashboard holds the server open). */
  close(): void {
    for (const l of this.listeners) l.end();
    this.listeners.clear();
    this.stop();
  }

  private start(): void {
    this.loopDelay = monitorEventLoopDelay({ resolution: 10 });
    this.loopDelay.enable();
    this.timer = setInterval(() => void this.tick(), TICK_MS);
    this.timer.unref();
    void this.tick();
  }

  private stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.loopDelay?.disable();
    this.timer = null;
    this.loopDelay = null;
    // a later viewer starts afresh rather than with a gap drawn as a line
    this.totals = [];
    this.history = [];
    this.latest = null;
  }

  private async tick(): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      const [status, totals] = await Promise.all([this.status.read(), readTotals(this.metrics)]);
      if (!this.timer) return;
      const snapshot = this.snapshot(status, totals);
      this.latest = JSON.stringify(snapshot);
      for (const l of this.listeners) l.send(this.latest);
    } catch (err) {
      // the next tick tries again; the streams stay open
      this.logger.warn({ err }, 'live dashboard snapshot failed');
    } finally {
      this.ticking = false;
    }
  }

  private snapshot(status: EngineStatus, now: Totals): LiveSnapshot {
    const prev = this.totals.at(-1) ?? now;
    this.totals.push(now);
    if (this.totals.length > LATENCY_WINDOW_TICKS + 1) this.totals.shift();
    const first = this.totals[0]!;
    const seconds = (now.at - prev.at) / 1000;
    const perSecond = (a: number, b: number) => (seconds > 0 ? round(Math.max(0, a - b) / seconds) : 0);

    const refused: Record<string, number> = {};
    for (const [code, n] of Object.entries(now.refused)) refused[code] = perSecond(n, prev.refused[code] ?? 0);
    let requests = 0;
    for (const [key, counts] of now.latency) requests += Math.max(0, counts.at(-1)! - (prev.latency.get(key)?.at(-1) ?? 0));

    const loop = this.loopDelay;
    const eventLoop = loop && loop.count > 0 ? { p50_ms: ms(loop.percentile(50)), p99_ms: ms(loop.percentile(99)), max_ms: ms(loop.max) } : { p50_ms: null, p99_ms: null, max_ms: null };
    loop?.reset();

    const point: LivePoint = {
      at: new Date(now.at).toISOString(),
      holds_per_s: perSecond(now.holds, prev.holds),
      sold_out_per_s: refused.insufficient_stock ?? 0,
      requests_per_s: seconds > 0 ? round(requests / seconds) : 0,
      outbox: status.products.reduce((sum, p) => sum + p.outbox, 0),
      oldest_change_age_s: status.oldestChangeAt === null ? null : round(Math.max(0, now.at - status.oldestChangeAt) / 1000),
      event_loop_p99_ms: eventLoop.p99_ms,
    };
    this.history.push(point);
    if (this.history.length > HISTORY_POINTS) this.history.shift();

    return {
      ...point,
      products: shownProducts(status),
      products_total: status.total,
      refused_per_s: refused,
      conversion: { holds: now.holds, orders: now.orders, paid: now.paid },
      webhooks: now.webhooks,
      queues: status.queues,
      routes: this.routes(first, now),
      event_loop: eventLoop,
      error: status.error,
    };
  }

  /** Per route, requests per second and p50 / p99 over the window (the buckets counted since its first tick). */
  private routes(first: Totals, now: Totals): LiveRoute[] {
    const seconds = (now.at - first.at) / 1000;
    const routes: LiveRoute[] = [];
    for (const [key, counts] of now.latency) {
      const before = first.latency.get(key);
      const window = before && first !== now ? counts.map((c, i) => c - before[i]!) : counts;
      const [method, route] = key.split(' ') as [string, string];
      const p = (q: number) => {
        const s = quantile(q, LATENCY_BUCKETS, window);
        return s === null ? null : round(s * 1000);
      };
      const errors = (now.serverErrors.get(key) ?? 0) - (first.serverErrors.get(key) ?? 0);
      routes.push({
        method,
        route,
        per_s: seconds > 0 ? round(window.at(-1)! / seconds) : 0,
        server_errors_per_s: seconds > 0 ? round(errors / seconds) : 0,
        p50_ms: p(0.5),
        p99_ms: p(0.99),
      });
    }
    return routes.sort((a, b) => b.per_s - a.per_s || a.route.localeCompare(b.route));
  }
}
