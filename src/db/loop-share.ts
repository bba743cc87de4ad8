/**
 * Lets the event loop turn between the embedded database's statements. PGlite runs a statement
 * synchronously, and the driver's queue starts the next one in a microtask: a backlog of statements
 * (a hundred answers ending together, each with its rows and context) ran back to back and held
 * sockets and timers still for their whole sum, 300–400 ms at 200 streams. A statement that comes
 * before the loop has turned since the last one now waits for that turn, so a backlog drains with
 * the server's other work between its statements.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

export class LoopShare {
  /** A statement started and the loop has not turned since. */
  #held = false;

  /** Called before a statement: resolves at once, or after the loop's next turn when one just ran. */
  async turn(): Promise<void> {
    // Queued after the immediate that ends the hold, so the hold is over when this resolves.
    if (this.#held) await nextTurn();
    this.#held = true;
    setImmediate(() => {
      this.#held = false;
    });
  }
}
