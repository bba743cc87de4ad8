/**
 * Calls made together go in one statement: the calls of one turn of the event loop, and those made
 * while the previous statement was in flight, are sent at the next turn. A burst of a thousand
 * calls costs a few statements instead of a thousand (each a round trip, and on the embedded
 * database a fixed cost of its own); a lone call waits only for the current turn of the loop to end.
 *
 * Waiting for the loop's turn matters on the embedded database: its statements run synchronously
 * inside one callback, so no statement is ever still in flight when the next socket's message is
 * read. The messages read in one turn of the loop are what arrives together there.
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
  #scheduled = false;

  /** `run` answers one output per input, in the same order. */
  constructor(private readonly run: (inputs: In[]) => Promise<Out[]>) {}

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
    const batch = this.#waiting.splice(0, MAX_BATCH);
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
}
