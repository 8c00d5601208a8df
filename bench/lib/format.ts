const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

export const fmtInt = (n: number): string => int.format(n);
export const fmtRatio = (r: number): string => `${r.toFixed(2)}×`;
export const fmtMB = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
export const fmtBytes = (bytes: number): string => `${int.format(bytes)} B`;
export const fmtLatencies = (r: { p50: number; p97_5: number; p99: number }): string =>
  `${r.p50} / ${r.p97_5} / ${r.p99} ms`;
