/**
 * A quantile from a histogram's cumulative bucket counts, interpolated linearly inside the bucket it
 * falls in (as Prometheus's histogram_quantile does). `bounds` are the finite upper bounds; `cumulative`
 * has one more entry, for +Inf. Null when nothing was counted; a quantile in the +Inf bucket reads as
 * the largest finite bound.
 */
export function quantile(q: number, bounds: readonly number[], cumulative: readonly number[]): number | null {
  const total = cumulative[cumulative.length - 1] ?? 0;
  if (total <= 0) return null;
  const rank = q * total;
  for (let i = 0; i < bounds.length; i++) {
    const count = cumulative[i]!;
    if (count < rank) continue;
    const below = i === 0 ? 0 : cumulative[i - 1]!;
    const lower = i === 0 ? 0 : bounds[i - 1]!;
    return count === below ? lower : lower + ((bounds[i]! - lower) * (rank - below)) / (count - below);
  }
  return bounds[bounds.length - 1] ?? null;
}
