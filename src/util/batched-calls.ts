/**
 * Calls made together go in one statement: the calls of one turn of the event loop, and those made
 * while the previous statement was in flight, are sent at the next turn. A burst of a thousand
 * calls costs a few statements instead of a thousand (each a round trip, and on the embedded
 * database a fixed cost of its own); a lone call waits only for the current turn of the loop to end.
 */

/** At most this many calls in one statement (its array parameters stay small). */
const MAX_BATCH = 500;
/**
 * At most about this much work in one statement, in the units of the caller's `weigh` (the
 * characters a call writes, plus a fixed share per row). The embedded database has one connection:
 * a checkpoint of a thousand growing answers in one statement held every other statement (a turn
 * start, a context read) for a tenth of a second; in slices of this size each waits a few ms.
 */
export const MAX_BATCH_WEIGHT = 64_000;

export interface BatchOptions<In> {
  /** The work a call adds to a statement; batches stop at `MAX_BATCH_WEIGHT` (always one call at least). */
  weigh?: (input: In) => number;
}

interface Waiting<In, Out> {
  input: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

export class BatchedCalls<In, Out> {
  #waiting: Array<Waiting<In, Out>> = [];
  #inFlight = false;
  #scheduled = false;

  /** `run` answers one output per input, in the same order. */
  constructor(
    private readonly run: (inputs: In[]) => Promise<Out[]>,
    private readonly options: BatchOptions<In> = {},
  ) {}

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#inFlight || this.#scheduled || this.#waiting.length === 0) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#send();
    });
  }

  #send(): void {
    const batch = this.#waiting.splice(0, this.#batchSize());
    if (batch.length === 0) return;
    this.#inFlight = true;
    this.run(batch.map((w) => w.input))
      .then((outs) => {
        if (outs.length !== batch.length) throw new Error(`a batched statement answered ${outs.length} rows for ${batch.length} calls`);
        batch.forEach((w, i) => w.resolve(outs[i] as Out));
      })
      .catch((err: unknown) => {
        for (const w of batch) w.reject(err);
      })
      .finally(() => {
        this.#inFlight = false;
        this.#schedule();
      });
  }

  /** How many of the waiting calls the next statement takes. */
  #batchSize(): number {
    const weigh = this.options.weigh;
    const most = Math.min(MAX_BATCH, this.#waiting.length);
    if (!weigh) return most;
    let weight = 0;
    for (let n = 0; n < most; n++) {
      weight += weigh((this.#waiting[n] as Waiting<In, Out>).input);
      if (weight > MAX_BATCH_WEIGHT) return Math.max(1, n);
    }
    return most;
  }
}
