/** A small Prometheus registry: what /metrics needs, without a dependency on the hot path. */
import type { EngineObserver } from '../engine/observer.js';
import type { ErrorCode } from '../errors.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

interface Histogram {
  labels: string;
  counts: number[];
  sum: number;
  count: number;
}

/** One series of a counter, to increment without looking it up again. */
export interface Counter {
  inc(by?: number): void;
}

interface CounterSeries extends Counter {
  labels: string;
  value: number;
}

const escape = (v: string) => v.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
const labelsOf = (labels: Record<string, string | number>) =>
  Object.entries(labels)
    .map(([k, v]) => `${k}="${escape(String(v))}"`)
    .join(',');

export class Metrics {
  /** route -> method -> status -> histogram (nested rather than keyed by a string built per request) */
  private readonly latency = new Map<string, Map<string, Map<number, Histogram>>>();
  private readonly counters = new Map<string, Map<string, CounterSeries>>();
  private readonly help = new Map<string, string>();

  observeRequest(method: string, route: string, status: number, seconds: number): void {
    let byMethod = this.latency.get(route);
    if (!byMethod) this.latency.set(route, (byMethod = new Map()));
    let byStatus = byMethod.get(method);
    if (!byStatus) byMethod.set(method, (byStatus = new Map()));
    let h = byStatus.get(status);
    if (!h) {
      h = { labels: labelsOf({ method, route, status }), counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      byStatus.set(status, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  inc(name: string, help: string, labels: Record<string, string> = {}, by = 1): void {
    this.counter(name, help, labels).inc(by);
  }

  /** A counter's series, created at zero if new; a hot path keeps it rather than calling inc() each time. */
  counter(name: string, help: string, labels: Record<string, string> = {}): Counter {
    let series = this.counters.get(name);
    if (!series) {
      this.counters.set(name, (series = new Map()));
      this.help.set(name, help);
    }
    // a cheap key for the label values; the exposition text of a series is rendered once
    let id = '';
    for (const k in labels) id += `${labels[k]}\u0000`;
    let c = series.get(id);
    if (!c) {
      c = { labels: labelsOf(labels), value: 0, inc: (by = 1) => void (c!.value += by) };
      series.set(id, c);
    }
    return c;
  }

  /** Prometheus text exposition; `gauges` are sampled by the caller at scrape time. */
  render(gauges: { name: string; help: string; samples: { labels: Record<string, string>; value: number }[] }[] = []): string {
    const out: string[] = [
      '# HELP http_request_duration_seconds Request latency by route and status.',
      '# TYPE http_request_duration_seconds histogram',
    ];
    for (const h of [...this.latency.values()].flatMap((m) => [...m.values()]).flatMap((m) => [...m.values()])) {
      BUCKETS.forEach((b, i) => out.push(`http_request_duration_seconds_bucket{${h.labels},le="${b}"} ${h.counts[i]}`));
      out.push(`http_request_duration_seconds_bucket{${h.labels},le="+Inf"} ${h.count}`);
      out.push(`http_request_duration_seconds_sum{${h.labels}} ${h.sum}`);
      out.push(`http_request_duration_seconds_count{${h.labels}} ${h.count}`);
    }
    for (const [name, series] of this.counters) {
      out.push(`# HELP ${name} ${this.help.get(name)}`, `# TYPE ${name} counter`);
      for (const { labels, value } of series.values()) out.push(`${name}${labels ? `{${labels}}` : ''} ${value}`);
    }
    for (const g of gauges) {
      out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} gauge`);
      for (const s of g.samples) out.push(`${g.name}{${labelsOf(s.labels)}} ${s.value}`);
    }
    return `${out.join('\n')}\n`;
  }
}

/** The engine's outcomes as counters; the series every hold request moves are kept as handles. */
export function engineMetrics(metrics: Metrics): EngineObserver {
  const refusedHelp = 'Hold requests refused, by code.';
  const placed = metrics.counter('holds_created_total', 'Holds placed.');
  // the stampede's answer is there from the start, at zero
  const refused = new Map<ErrorCode, Counter>([
    ['insufficient_stock', metrics.counter('holds_rejected_total', refusedHelp, { code: 'insufficient_stock' })],
  ]);
  return {
    holdPlaced: () => placed.inc(),
    holdRefused(code) {
      let counter = refused.get(code);
      if (!counter) refused.set(code, (counter = metrics.counter('holds_rejected_total', refusedHelp, { code })));
      counter.inc();
    },
  };
}
