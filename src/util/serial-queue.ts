/**
 * A serial queue (a FIFO mutex): tasks run one at a time, in the order they were queued. A task's
 * failure goes to whoever queued it; the tasks after it still run.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();
  #pending = 0;

  /** Tasks queued or running. */
  get pending(): number {
    return this.#pending;
  }

  /** Runs `task` once every task queued before it has settled. */
  run<T>(task: () => Promise<T> | T): Promise<T> {
    this.#pending += 1;
    const result = this.#tail.then(task).finally(() => {
      this.#pending -= 1;
    });
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    await this.#tail;
  }
}
