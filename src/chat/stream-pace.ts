/**
 * How long a turn's streamed deltas are merged into one frame, by how many turns stream at once on
 * this server. Up to `STREAMS_AT_BASE` streams every turn gets a frame at most every `COALESCE_MS`;
 * beyond that the window grows in proportion, up to `MAX_COALESCE_MS`, so the frames (and the
 * socket writes, one system call each) a server sends per second stay about constant as streams are
 * added. Text still arrives at least 20 times a second: a wider window saved little more CPU at a
 * thousand streams and added its whole width to every delta's delay (docs/benchmarks.md).
 */
export const COALESCE_MS = 20;
export const MAX_COALESCE_MS = 50;
/** Streams at which the window starts to grow. */
export const STREAMS_AT_BASE = 200;

export class StreamPace {
  #live = 0;

  constructor(
    private readonly baseMs = COALESCE_MS,
    private readonly maxMs = MAX_COALESCE_MS,
    private readonly streamsAtBase = STREAMS_AT_BASE,
  ) {}

  /** Counts one more streaming turn; the returned function (idempotent) ends it. */
  enter(): () => void {
    this.#live += 1;
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.#live -= 1;
    };
  }

  /** Turns streaming now. */
  get live(): number {
    return this.#live;
  }

  /** The coalescing window for the turns streaming now, in milliseconds. */
  windowMs(): number {
    return Math.min(this.maxMs, Math.max(this.baseMs, (this.baseMs * this.#live) / this.streamsAtBase));
  }
}
