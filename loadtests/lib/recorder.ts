import { outcomeKey } from '../steps/api.js';
import type { Outcome } from '../steps/types.js';
import { Histogram, summarize, type LatencySummary } from './histogram.js';

export interface RequestStats extends LatencySummary {
  name: string;
  rps: number;
  outcomes: Record<string, number>;
}

const MAX_UNEXPECTED_SAMPLES = 10;

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

  record(o: Outcome): void {
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
