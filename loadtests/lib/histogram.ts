/**
 * A latency histogram with bounded memory: values are kept at three significant digits (±0.5 %), so a
 * 30-minute soak stores a few thousand buckets, not millions of samples.
 */
export class Histogram {
  private readonly buckets = new Map<number, number>();
  count = 0;
  max = 0;
  private sum = 0;

  record(ms: number): void {
    const key = ms <= 0 ? 0 : Number(ms.toPrecision(3));
    this.buckets.set(key, (this.buckets.get(key) ?? 0) + 1);
    this.count += 1;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  merge(other: Histogram): void {
    for (const [k, n] of other.buckets) this.buckets.set(k, (this.buckets.get(k) ?? 0) + n);
    this.count += other.count;
    this.sum += other.sum;
    this.max = Math.max(this.max, other.max);
  }

  get mean(): number {
    return this.count === 0 ? 0 : this.sum / this.count;
  }

  /** The p-th percentile (0..100), nearest-rank; 0 when empty. */
  percentile(p: number): number {
    if (this.count === 0) return 0;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (const key of [...this.buckets.keys()].sort((a, b) => a - b)) {
      seen += this.buckets.get(key)!;
      if (seen >= rank) return key;
    }
    return this.max;
  }
}

export interface LatencySummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(h: Histogram): LatencySummary {
  return { count: h.count, p50: h.percentile(50), p95: h.percentile(95), p99: h.percentile(99), max: h.max };
}
