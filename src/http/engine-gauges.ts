import { Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';
import type { EngineStatusReader } from './live/engine-status.js';

const STOCK_TERMS = ['total', 'available', 'held', 'pending_payment', 'sold'] as const;

/**
 * Gauges sampled at scrape time from what the engine holds in Redis. Every API process reads the same
 * Redis, so an aggregating registry takes the first process's values rather than adding them up.
 */
export function registerEngineGauges(metrics: Metrics, status: EngineStatusReader): void {
  const common = { registers: [metrics.registry], aggregator: 'first' as const };
  new Gauge({
    ...common,
    name: 'product_stock_units',
    help: 'Stock of each product by state.',
    labelNames: ['product', 'state'],
    async collect() {
      this.reset();
      for (const p of (await status.read()).products) for (const state of STOCK_TERMS) this.set({ product: p.id, state }, p.stock[state]);
    },
  });
  new Gauge({
    ...common,
    name: 'queue_jobs',
    help: 'Background jobs by queue and state (failed = retries exhausted).',
    labelNames: ['queue', 'state'],
    async collect() {
      this.reset();
      for (const [queue, counts] of Object.entries((await status.read()).queues ?? {})) {
        for (const [state, value] of Object.entries(counts)) this.set({ queue, state }, value);
      }
    },
  });
  new Gauge({
    ...common,
    name: 'outbox_records',
    help: 'Orders and payment events in Redis not yet written to Postgres, by product.',
    labelNames: ['product'],
    async collect() {
      this.reset();
      for (const p of (await status.read()).products) this.set({ product: p.id }, p.outbox);
    },
  });
  new Gauge({
    ...common,
    name: 'persistence_lag_seconds',
    help: 'Age of the oldest order or payment change not yet written to Postgres (0 when none).',
    async collect() {
      const { oldestChangeAt, at } = await status.read();
      this.set(oldestChangeAt === null ? 0 : Math.max(0, (at - oldestChangeAt) / 1000));
    },
  });
  new Gauge({
    ...common,
    name: 'engine_redis_up',
    help: "1 when the engine's state could be read from Redis at this scrape, else 0.",
    async collect() {
      this.set((await status.read()).error === null ? 1 : 0);
    },
  });
}
