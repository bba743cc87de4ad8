/**
 * Cancellation of one chat turn: a token with distinct reason classes (a user's stop, a newer
 * message, a shutdown, a turn the server cannot run), `onCancel` callbacks and an AbortSignal for
 * the SDK and tools.
 */
import type { AppError } from '../errors/app-error.js';

/** Base class of every reason a turn can be cancelled for. */
export abstract class CancelReason extends Error {
  override name = this.constructor.name;
  /** The `assistant_end.finish_reason` a turn ended by this reason reports. */
  abstract readonly finishReason: 'interrupted' | 'error';
  /** Who or what stopped the turn, as its unfinished tool calls and cut text tell the model and the user. */
  readonly interruptedBy: string = 'the server';
}

/** The user pressed stop (an `interrupt` frame). */
export class UserInterrupt extends CancelReason {
  readonly finishReason = 'interrupted' as const;
  override readonly interruptedBy = 'the user';
  constructor(message = 'Interrupted by the user.') {
    super(message);
  }
}

/** A new `message` for the same session replaces the running turn. */
export class NewMessageInterrupt extends CancelReason {
  readonly finishReason = 'interrupted' as const;
  override readonly interruptedBy = 'a new message';
  constructor(message = 'Interrupted by a new message.') {
    super(message);
  }
}

/** The server is shutting down; the turn saves its partial and ends. */
export class ShutdownInterrupt extends CancelReason {
  readonly finishReason = 'interrupted' as const;
  override readonly interruptedBy = 'a server shutdown';
  constructor(message = 'The server is shutting down.') {
    super(message);
  }
}

/**
 * The server cannot run (or go on running) the turn — e.g. the session's turn lock could not be
 * taken or was lost. Nobody interrupted it: it ends with `error` carrying `error`'s code, and the
 * user's words are kept.
 */
export class TurnRefused extends CancelReason {
  readonly finishReason = 'error' as const;
  constructor(readonly error: AppError) {
    super(error.message);
  }
}

export type CancelCallback = (reason: CancelReason) => void;

/**
 * One turn's cancellation. The first `cancel` wins; later calls are ignored. Callbacks run once,
 * synchronously, in registration order; a callback registered after cancellation runs at once.
 */
export class CancellationToken {
  readonly #controller = new AbortController();
  #reason: CancelReason | undefined;
  #callbacks = new Set<CancelCallback>();

  get cancelled(): boolean {
    return this.#reason !== undefined;
  }

  get reason(): CancelReason | undefined {
    return this.#reason;
  }

  /** Aborted (with the reason) when the token is cancelled. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Cancels with `reason`; returns false when the token was already cancelled. */
  cancel(reason: CancelReason): boolean {
    if (this.#reason) return false;
    this.#reason = reason;
    this.#controller.abort(reason);
    const callbacks = [...this.#callbacks];
    this.#callbacks.clear();
    for (const cb of callbacks) {
      try {
        cb(reason);
      } catch {
        // A failing listener must not stop the others from hearing about the cancel.
      }
    }
    return true;
  }

  /** Registers `cb`; returns a function that removes it. */
  onCancel(cb: CancelCallback): () => void {
    if (this.#reason) {
      cb(this.#reason);
      return () => undefined;
    }
    this.#callbacks.add(cb);
    return () => {
      this.#callbacks.delete(cb);
    };
  }
}
