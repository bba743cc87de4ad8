/**
 * How long the fuzzers run. CI runs a fixed seed and a fixed number of inputs, so a run passes or
 * fails the same way every time; the seed is printed so any run can be replayed.
 *
 * - `FUZZ_SEED`: the seed (default 20261206).
 * - `FUZZ_RUNS`: multiplies every property's number of batches (default 1; `FUZZ_RUNS=20` tries
 *   twenty times as many inputs).
 * - `FUZZ_SECONDS`: run each property for this many seconds instead of a number of batches.
 */
import fc from 'fast-check';

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const RUNS_FACTOR = Number(process.env.FUZZ_RUNS ?? 1);
const SECONDS = process.env.FUZZ_SECONDS ? Number(process.env.FUZZ_SECONDS) : undefined;

for (const [name, value] of [['FUZZ_SEED', FUZZ_SEED], ['FUZZ_RUNS', RUNS_FACTOR], ['FUZZ_SECONDS', SECONDS ?? 1]] as const) {
  if (!Number.isFinite(value) || value < 0) throw new Error(`${name} must be a non-negative number`);
}

/**
 * A test's time limit: generous for CI's counts (scaled by FUZZ_RUNS), or the FUZZ_SECONDS budget
 * of each of its `properties` plus room for shrinking.
 */
export function fuzzTimeout(ciMs: number, properties = 1): number {
  return SECONDS === undefined ? ciMs * Math.max(1, RUNS_FACTOR) : SECONDS * 1000 * properties + ciMs;
}

/** fast-check parameters for a property that runs `batches` batches in CI. */
export function fuzzParameters<T>(batches: number): fc.Parameters<T> {
  const base: fc.Parameters<T> = { seed: FUZZ_SEED, verbose: fc.VerbosityLevel.Verbose };
  if (SECONDS === undefined) return { ...base, numRuns: Math.max(1, Math.round(batches * RUNS_FACTOR)) };
  return { ...base, numRuns: Number.MAX_SAFE_INTEGER, plugins: [fc.interruptAfterTimeLimit(SECONDS * 1000)] };
}

/** The line each fuzz file prints, so a failing run can be replayed with the same seed. */
export function fuzzBanner(kind: string): string {
  const how = SECONDS === undefined ? `FUZZ_RUNS=${RUNS_FACTOR}` : `FUZZ_SECONDS=${SECONDS}`;
  return `fuzz ${kind}: FUZZ_SEED=${FUZZ_SEED} ${how}`;
}
