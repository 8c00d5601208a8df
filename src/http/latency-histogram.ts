import { Histogram, type Registry } from 'prom-client';

type Label = 'method' | 'route' | 'status';
const NAME = 'http_request_duration_seconds';
const HELP = 'Request latency by route and status.';
interface ExposedValue {
  labels: Record<string, string | number>;
  sharedLabels: Record<string, string>;
  value: number;
  metricName: string;
}

/** One series (method, route, status), bound once. */
export interface LatencySeries {
  observe(seconds: number): void;
}

interface Series extends LatencySeries {
  labels: Record<Label, string>;
  /** per bucket, not cumulative */
  counts: number[];
  sum: number;
  count: number;
}

/**
 * The request latency histogram. prom-client's own `labels(...).observe()` validates and hashes the
 * label set on every call, several times what the rest of a hold's metrics cost; here a series is
 * bound once and observing is a bucket search and three additions. Exposition and aggregation across
 * processes stay prom-client's: `get()` answers in its format.
 */
export class LatencyHistogram extends Histogram<Label> {
  private readonly series: Series[] = [];

  constructor(
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super({
      name: NAME,
      help: HELP,
      labelNames: ['method', 'route', 'status'],
      buckets: [...bounds],
      registers: [registry],
    });
  }

  bind(method: string, route: string, status: number): LatencySeries {
    const bounds = this.bounds;
    const s: Series = {
      labels: { method, route, status: String(status) },
      counts: new Array<number>(bounds.length + 1).fill(0),
      sum: 0,
      count: 0,
      observe(seconds) {
        let i = 0;
        while (i < bounds.length && seconds > bounds[i]!) i++;
        s.counts[i]!++;
        s.sum += seconds;
        s.count++;
      },
    };
    this.series.push(s);
    return s;
  }

  /**
   * The series in the shape prom-client's own histogram hands its registry: rendered for /metrics,
   * and through the inherited `get()` collected by an aggregating registry. Tests read /metrics, so a
   * prom-client that asks for something else fails them rather than losing the series silently.
   */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExposedValue[] }> {
    const values: ExposedValue[] = [];
    const push = (suffix: string, labels: Record<string, string | number>, value: number) =>
      values.push({ labels, sharedLabels: {}, value, metricName: `${NAME}_${suffix}` });
    for (const s of this.series) {
      let cumulative = 0;
      this.bounds.forEach((le, i) => push('bucket', { ...s.labels, le }, (cumulative += s.counts[i]!)));
      push('bucket', { ...s.labels, le: '+Inf' }, s.count);
      push('sum', s.labels, s.sum);
      push('count', s.labels, s.count);
    }
    // histograms of several processes add up
    return { name: NAME, help: HELP, type: 'histogram', aggregator: 'sum', values };
  }
}
