import { Histogram, summarize, type LatencySummary } from './histogram.js';

/** One answered (or failed) request of the load phase. */
export interface RequestOutcome {
  /** request name, e.g. `POST /api/holds` */
  name: string;
  /** HTTP status; 0 = no response (network error, timeout) */
  status: number;
  /** problem+json `code` of an error, or the step's label of a success (a webhook's `result`) */
  code?: string | undefined;
  ms: number;
  /** false when the step did not expect this outcome (counted against `max_unexpected`) */
  expected: boolean;
  /** shown for the first few unexpected outcomes */
  detail?: string | undefined;
}

export interface RequestStats extends LatencySummary {
  name: string;
  rps: number;
  outcomes: Record<string, number>;
}

const MAX_UNEXPECTED_SAMPLES = 10;

/** `201`, `409 insufficient_stock`, `network_error`: the key outcomes are counted and expected by. */
export function outcomeKey(status: number, code?: string): string {
  if (status === 0) return 'network_error';
  return code ? `${status} ${code}` : String(status);
}

/** Expectations are outcome keys or bare statuses: `201` matches any 201, `409 sale_not_started` only that code. */
export function isExpected(expect: readonly string[], status: number, code?: string): boolean {
  return expect.includes(String(status)) || (code !== undefined && expect.includes(outcomeKey(status, code)));
}

/** Latencies and outcome counts of the load phase: per request name, overall, per second and per interval. */
export class Recorder {
  private readonly byName = new Map<string, { hist: Histogram; outcomes: Map<string, number> }>();
  readonly all = new Histogram();
  private tick = new Histogram();
  private interval = new Histogram();
  private tickUnexpected = 0;
  unexpected = 0;
  readonly unexpectedSamples: string[] = [];
  private startedAt = Date.now();
  private stoppedAt: number | undefined;

  /** The load phase begins (setup is not part of the rates). */
  start(): void {
    this.startedAt = Date.now();
    this.stoppedAt = undefined;
  }

  record(o: RequestOutcome): void {
    let entry = this.byName.get(o.name);
    if (!entry) {
      entry = { hist: new Histogram(), outcomes: new Map() };
      this.byName.set(o.name, entry);
    }
    entry.hist.record(o.ms);
    const key = outcomeKey(o.status, o.code);
    entry.outcomes.set(key, (entry.outcomes.get(key) ?? 0) + 1);
    this.all.record(o.ms);
    this.tick.record(o.ms);
    this.interval.record(o.ms);
    if (!o.expected) {
      this.unexpected += 1;
      this.tickUnexpected += 1;
      // one example per distinct request and outcome
      const kind = `${o.name} -> ${key}`;
      if (this.unexpectedSamples.length < MAX_UNEXPECTED_SAMPLES && !this.unexpectedSamples.some((s) => s.startsWith(`${kind}:`) || s === kind)) {
        this.unexpectedSamples.push(`${kind}${o.detail ? `: ${o.detail.slice(0, 300)}` : ''}`);
      }
    }
  }

  /** What happened since the last call (the live progress line). */
  takeTick(): { hist: Histogram; unexpected: number } {
    const out = { hist: this.tick, unexpected: this.tickUnexpected };
    this.tick = new Histogram();
    this.tickUnexpected = 0;
    return out;
  }

  /** What happened since the last call (soak intervals). */
  takeInterval(): Histogram {
    const out = this.interval;
    this.interval = new Histogram();
    return out;
  }

  stop(): void {
    this.stoppedAt ??= Date.now();
  }

  get elapsedS(): number {
    return ((this.stoppedAt ?? Date.now()) - this.startedAt) / 1000;
  }

  stats(): { total: RequestStats; requests: RequestStats[] } {
    const seconds = Math.max(this.elapsedS, 0.001);
    const requests = [...this.byName.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, e]) => ({
        name,
        ...summarize(e.hist),
        rps: e.hist.count / seconds,
        outcomes: Object.fromEntries([...e.outcomes.entries()].sort(([, a], [, b]) => b - a)),
      }));
    const outcomes: Record<string, number> = {};
    for (const r of requests) for (const [k, n] of Object.entries(r.outcomes)) outcomes[k] = (outcomes[k] ?? 0) + n;
    return { total: { name: 'all', ...summarize(this.all), rps: this.all.count / seconds, outcomes }, requests };
  }
}
