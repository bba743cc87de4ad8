/** Small statistics helpers for the benchmark: medians, percentiles, number formatting, the stamp clock. */

/**
 * Milliseconds since the epoch with sub-millisecond resolution: the clock a stamped delta carries.
 * Every process on the machine reads the same clock, so the fake model, Pulp and the clients
 * may run in different processes.
 */
export const benchClock = (): number => performance.timeOrigin + performance.now();

export function median(values: number[]): number {
  return percentile(values, 50);
}

/** Nearest-rank percentile of `values` (p in 0..100); NaN for an empty list. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const ms = (v: number): string => `${v.toFixed(1)} ms`;
export const us = (v: number): string => `${v.toFixed(1)} µs`;
export const ratio = (v: number): string => `${v.toFixed(2)}×`;
