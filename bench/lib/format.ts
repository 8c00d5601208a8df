const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmtInt = (n: number): string => int.format(n);
export const fmtRatio = (r: number): string => `${r.toFixed(2)}×`;
export const fmtMB = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
export const fmtBytes = (bytes: number): string => `${int.format(bytes)} B`;
export const fmtLatencies = (r: { p50: number; p97_5: number; p99: number }): string =>
  `${r.p50} / ${r.p97_5} / ${r.p99} ms`;
/** A target factor: `25×`, `0.50×`. */
export const fmtTimes = (r: number): string => (Number.isInteger(r) ? `${r}×` : fmtRatio(r));
/** ms with one decimal below 100 (histogram latencies are not whole numbers). */
export const fmtMs = (ms: number): string => (ms < 100 ? ms.toFixed(1) : fmtInt(ms));
/** p50 / p95 / p99 in ms. */
export const fmtLatencies95 = (r: { p50: number; p95: number; p99: number }): string =>
  `${fmtMs(r.p50)} / ${fmtMs(r.p95)} / ${fmtMs(r.p99)} ms`;
