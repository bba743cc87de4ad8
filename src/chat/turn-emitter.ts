/**
 * Publishes one turn's events: stamps `session_id`, `turn_id` and `seq` (1, 2, 3 … per turn) and
 * coalesces streamed deltas into at most one frame per window (`COALESCE_MS`, or what the server's
 * `StreamPace` says for the streams running), without ever reordering them against the other events.
 */
import type { EventSink, ServerEvent, TurnEventBody } from './events.js';
import { COALESCE_MS, type StreamPace } from './stream-pace.js';

export { COALESCE_MS } from './stream-pace.js';

type DeltaBody = Extract<TurnEventBody, { type: 'assistant_delta' | 'reasoning_delta' | 'function_call_arguments_delta' }>;

function isDelta(e: TurnEventBody): e is DeltaBody {
  return e.type === 'assistant_delta' || e.type === 'reasoning_delta' || e.type === 'function_call_arguments_delta';
}

function sameStream(a: DeltaBody, b: DeltaBody): boolean {
  if (a.type !== b.type) return false;
  return a.type !== 'function_call_arguments_delta' || a.tool_call_id === (b as typeof a).tool_call_id;
}

export class TurnEmitter {
  #seq = 0;
  #pending: DeltaBody | undefined;
  #pendingText: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #lastDeltaFrameAt = -Infinity;
  #ended = false;

  constructor(
    private readonly sink: EventSink,
    private readonly sessionUuid: string,
    readonly sessionId: string,
    readonly turnId: string,
    /** The coalescing window in ms, fixed or read from the server's pace at each delta. */
    private readonly coalesceMs: number | Pick<StreamPace, 'windowMs'> = COALESCE_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  emit(body: TurnEventBody): void {
    if (this.#ended) return;
    if (isDelta(body)) {
      this.#delta(body);
      return;
    }
    this.flush();
    this.#publish(body);
    if (body.type === 'assistant_end') this.#end();
  }

  /** Sends any buffered delta now. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const pending = this.#pending;
    if (!pending) return;
    this.#pending = undefined;
    const text = this.#pendingText.length === 1 ? (this.#pendingText[0] ?? '') : this.#pendingText.join('');
    this.#pendingText = [];
    this.#lastDeltaFrameAt = this.now();
    if (pending.type === 'function_call_arguments_delta') this.#publish({ ...pending, delta: text });
    else this.#publish({ ...pending, content: text });
  }

  #delta(body: DeltaBody): void {
    const text = body.type === 'function_call_arguments_delta' ? body.delta : body.content;
    if (this.#pending && !sameStream(this.#pending, body)) this.flush();
    if (!this.#pending) {
      this.#pending = body;
      this.#pendingText = [text];
    } else {
      this.#pendingText.push(text);
    }
    const windowMs = typeof this.coalesceMs === 'number' ? this.coalesceMs : this.coalesceMs.windowMs();
    const wait = this.#lastDeltaFrameAt + windowMs - this.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => this.flush(), wait);
  }

  #publish(body: TurnEventBody): void {
    this.#seq += 1;
    const event: ServerEvent = { ...body, session_id: this.sessionId, turn_id: this.turnId, seq: this.#seq };
    this.sink.publish(this.sessionUuid, event);
  }

  #end(): void {
    this.#ended = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
