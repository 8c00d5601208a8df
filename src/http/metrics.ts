/**
 * The process's Prometheus registry (prom-client): Node's own health (event-loop lag, GC, heap,
 * handles), request latency, and the engine's outcomes. Every app has its own registry, so tests build
 * as many apps as they like. Several API processes are summed by prom-client's AggregatorRegistry
 * (each process hands it this registry; src/api-processes.ts), which is why every series says how it
 * aggregates: counters and histograms add up, gauges read from shared Redis take the first process's.
 */
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import type { OrderStatus, PaymentResult } from '../contract.js';
import type { EngineObserver } from '../engine/observer.js';
import type { ErrorCode } from '../errors.js';
import { LatencyHistogram, type LatencySeries } from './latency-histogram.js';

export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** A counter's series, bound once to its labels. */
interface Inc {
  inc(by?: number): void;
}

export class Metrics {
  readonly registry = new Registry();
  readonly latency: LatencyHistogram;
  readonly holdsCreated: Counter;
  readonly holdsRejected: Counter<'code'>;
  readonly ordersCreated: Counter;
  readonly ordersPaid: Counter;
  readonly paymentEvents: Counter<'result'>;
  readonly connectionsDropped: Counter;
  /** route -> method -> status -> bound series (nested rather than keyed by a string built per request) */
  private readonly children = new Map<string, Map<string, Map<number, LatencySeries>>>();

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.latency = new LatencyHistogram(LATENCY_BUCKETS, this.registry);
    this.holdsCreated = new Counter({ name: 'holds_created_total', help: 'Holds placed.', registers });
    this.holdsRejected = new Counter({ name: 'holds_rejected_total', help: 'Hold requests refused, by code.', labelNames: ['code'], registers });
    this.ordersCreated = new Counter({ name: 'orders_created_total', help: 'Orders created from holds.', registers });
    this.ordersPaid = new Counter({ name: 'orders_paid_total', help: 'Orders that became paid.', registers });
    this.paymentEvents = new Counter({
      name: 'payment_events_total',
      help: 'Payment events applied by the engine, by result (refused deliveries show as webhook 4xx).',
      labelNames: ['result'],
      registers,
    });
    this.connectionsDropped = new Counter({
      name: 'http_connections_dropped_total',
      help: 'Connections closed at once because the API had HTTP_MAX_CONNECTIONS open.',
      registers,
    });
  }

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.children.get(route);
    if (!byMethod) this.children.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let series = byStatus.get(status);
    if (!series) byStatus.set(status, (series = this.latency.bind(method, route, status)));
    series.observe(seconds);
  }

  private source = () => this.registry.metrics();

  /** Prometheus text exposition; scrape-time gauges sample what they show now. */
  render(): Promise<string> {
    return this.source();
  }

  /** Where `render` takes the exposition from instead of this registry (the sum over several API processes). */
  renderWith(source: () => Promise<string>): void {
    this.source = source;
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/** The engine's outcomes as counters; the series every hold request moves are bound once. */
export function engineMetrics(metrics: Metrics): EngineObserver {
  const placed: Inc = metrics.holdsCreated;
  const soldOut = metrics.holdsRejected.labels('insufficient_stock');
  // the stampede's answer is there from the start, at zero
  soldOut.inc(0);
  const refused = new Map<ErrorCode, Inc>([['insufficient_stock', soldOut]]);
  const payments = new Map<PaymentResult, Inc>();
  const paid = (status: OrderStatus | null) => status === 'paid' && metrics.ordersPaid.inc();
  return {
    holdPlaced: () => placed.inc(),
    holdRefused(code) {
      let counter = refused.get(code);
      if (!counter) refused.set(code, (counter = metrics.holdsRejected.labels(code)));
      counter.inc();
    },
    orderCreated(status) {
      metrics.ordersCreated.inc();
      // a payment that arrived first makes the order paid as it is created
      paid(status);
    },
    paymentEvent(result, status) {
      let counter = payments.get(result);
      if (!counter) payments.set(result, (counter = metrics.paymentEvents.labels(result)));
      counter.inc();
      if (result === 'applied') paid(status);
    },
  };
}
