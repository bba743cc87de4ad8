/**
 * Calls made while a statement is in flight go together in the next one: a burst of a thousand
 * calls costs a few statements instead of a thousand (each a round trip, and on the embedded
 * database a fixed cost of its own), and a lone call still goes at once.
 */

/** At most this many calls in one statement (its array parameters stay small). */
const MAX_BATCH = 500;

interface Waiting<In, Out> {
  input: In;
  resolve: (out: Out) => void;
  reject: (err: unknown) => void;
}

export class BatchedCalls<In, Out> {
  #waiting: Array<Waiting<In, Out>> = [];
  #inFlight = false;

  /** `run` answers one output per input, in the same order. */
  constructor(private readonly run: (inputs: In[]) => Promise<Out[]>) {}

  call(input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      this.#waiting.push({ input, resolve, reject });
      this.#next();
    });
  }

  #next(): void {
    if (this.#inFlight || this.#waiting.length === 0) return;
    const batch = this.#waiting.splice(0, MAX_BATCH);
    this.#inFlight = true;
    this.run(batch.map((w) => w.input))
      .then(
        (outs) => {
          if (outs.length !== batch.length) throw new Error(`a batched statement answered ${outs.length} rows for ${batch.length} calls`);
          batch.forEach((w, i) => w.resolve(outs[i] as Out));
        },
      )
      .catch((err: unknown) => {
        for (const w of batch) w.reject(err);
      })
      .finally(() => {
        this.#inFlight = false;
        this.#next();
      });
  }
}
