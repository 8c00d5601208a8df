import type { Counter } from 'prom-client';
import { LATENCY_BUCKETS, type Metrics } from '../metrics.js';

/** The cumulative numbers the dashboard turns into rates and windows, read from the registry. */
export interface Totals {
  at: number;
  holds: number;
  refused: Record<string, number>;
  orders: number;
  paid: number;
  webhooks: Record<string, number>;
  /** "METHOD route" -> cumulative counts per latency bucket (the last one +Inf), summed over statuses */
  latency: Map<string, number[]>;
  /** "METHOD route" -> answers with a 5xx status */
  serverErrors: Map<string, number>;
}

async function byLabel(counter: Counter<string>, label: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await counter.get()).values) out[String(v.labels[label])] = v.value;
  return out;
}

async function single(counter: Counter): Promise<number> {
  return (await counter.get()).values[0]?.value ?? 0;
}

async function latencyByRoute(metrics: Metrics): Promise<Pick<Totals, 'latency' | 'serverErrors'>> {
  const out = new Map<string, number[]>();
  const serverErrors = new Map<string, number>();
  const index = new Map<string, number>(LATENCY_BUCKETS.map((b, i) => [String(b), i]));
  for (const v of (await metrics.latency.get()).values) {
    if (v.metricName !== 'http_request_duration_seconds_bucket') continue;
    // bucket samples carry `le` besides the histogram's own labels
    const labels = v.labels as Record<string, string | number | undefined>;
    const key = `${labels.method} ${labels.route}`;
    let counts = out.get(key);
    if (!counts) out.set(key, (counts = new Array<number>(LATENCY_BUCKETS.length + 1).fill(0)));
    const i = labels.le === '+Inf' ? LATENCY_BUCKETS.length : index.get(String(labels.le));
    if (i !== undefined) counts[i]! += v.value;
    if (i === LATENCY_BUCKETS.length && Number(labels.status) >= 500) serverErrors.set(key, (serverErrors.get(key) ?? 0) + v.value);
  }
  return { latency: out, serverErrors };
}

export async function readTotals(metrics: Metrics): Promise<Totals> {
  const [holds, refused, orders, paid, webhooks, latency] = await Promise.all([
    single(metrics.holdsCreated),
    byLabel(metrics.holdsRejected, 'code'),
    single(metrics.ordersCreated),
    single(metrics.ordersPaid),
    byLabel(metrics.paymentEvents, 'result'),
    latencyByRoute(metrics),
  ]);
  return { at: Date.now(), holds, refused, orders, paid, webhooks, ...latency };
}
