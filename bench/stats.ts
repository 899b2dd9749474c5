/** Small statistics for the benchmark: percentiles over sorted samples. */

export function sorted(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values as ArrayLike<number>).sort();
}

/** Nearest-rank percentile of sorted samples; NaN when empty. */
export function pct(s: Float64Array, p: number): number {
  if (s.length === 0) return NaN;
  const i = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[i] as number;
}

export function median(values: readonly number[]): number {
  return pct(sorted(values), 50);
}

export function round(x: number, digits = 1): number {
  if (!Number.isFinite(x)) return x;
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
