/**
 * The HTTP side shared by every wire format: POST a JSON body with undici's `request` (keep-alive
 * connections), retry once where the `openai` client would, and read a streamed answer as
 * server-sent events with `eventsource-parser`. Knows nothing of what the events mean.
 *
 * undici's `request` rather than `fetch`: the answer's body is a Node stream, not a web stream,
 * and at a thousand paced streams reading a network chunk costs about half as much CPU (measured
 * in docs/benchmarks.md), which is most of what a streamed delta costs before the Runner.
 *
 * Timing: the caller's signal aborts the request, a retry wait and the body at once (the socket
 * is closed, so the server sees the client go). The read timeout covers the wait for the answer's
 * headers only: a stream that keeps sending may run as long as it likes, and an idle one is ended
 * by undici's body timeout (300 s).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, interceptors, request, type Dispatcher } from 'undici';
import type { Endpoint, Operation } from './endpoint.js';
import { ProviderHttpError } from './provider-http-error.js';

export type SseMessage = EventSourceMessage;

export interface TransportOptions {
  /** Longest wait for the answer's headers, in ms. */
  readTimeoutMs: number;
  /** Retries after a failed attempt (a dropped connection, 408, 409, 429, 5xx). */
  maxRetries: number;
  /** Where requests are sent (a proxy agent; tests route requests to a fake server). Default: a keep-alive `Agent` of its own. */
  dispatcher?: Dispatcher;
}

/** An answer whose headers arrived with a 2xx status; its body is still unread. */
export interface OpenAnswer {
  status: number;
  headers: Headers;
  body: Dispatcher.ResponseData['body'];
  /** Ends the request (idempotent): closes the socket if the body is still being read. */
  close(): void;
  /**
   * The reader is done with the answer (idempotent). A body that has not ended yet (its closing
   * chunk still on the way after the last event) is read to its end in the background, for at most
   * `DRAIN_MS`, so the connection stays open for the next request; past that the socket closes.
   */
  release(): void;
}

/**
 * How long a released body may take to end. A provider sends the end of a streamed body right after
 * its last event, often in a packet of its own; closing the socket instead would make the next
 * answer open a new connection (a TLS handshake away on a real provider).
 */
export const DRAIN_MS = 250;

/** Redirects followed for an endpoint that allows them, as many as `fetch` follows. */
const MAX_REDIRECTIONS = 20;

/** undici's header record as a `Headers` (what errors and the callers read). */
function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/** The `openai` client's rule: obey `x-should-retry`, else retry 408, 409, 429 and 5xx. */
function shouldRetry(status: number, headers: Headers): boolean {
  const header = headers.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The `openai` client's default back-off: 0.5 s doubling per retry, at most 8 s, minus up to 25 % jitter. */
function backoffMs(retry: number): number {
  return Math.min(500 * 2 ** retry, 8000) * (1 - Math.random() * 0.25);
}

const abortError = (): DOMException => new DOMException('The operation was aborted.', 'AbortError');

export class SseTransport {
  readonly #endpoint: Endpoint;
  readonly #options: TransportOptions;
  readonly #dispatcher: Dispatcher;

  constructor(endpoint: Endpoint, options: TransportOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
    const dispatcher = options.dispatcher ?? new Agent();
    // `fetch`'s rules: `follow` drops credentials on a redirect to another origin; `manual` (Azure,
    // whose key is a custom header) answers a redirect as an error.
    this.#dispatcher = endpoint.redirect === 'follow' ? dispatcher.compose(interceptors.redirect({ maxRedirections: MAX_REDIRECTIONS })) : dispatcher;
  }

  /**
   * POSTs `payload` (JSON text) and returns once a 2xx answer's headers arrived. A non-2xx answer throws
   * `ProviderHttpError`; a user abort throws an `AbortError`; the read timeout a `TimeoutError`.
   */
  async open(operation: Operation, model: string, payload: string, stream: boolean, signal: AbortSignal | undefined): Promise<OpenAnswer> {
    const url = this.#endpoint.url(operation, model);
    const headers = { ...this.#endpoint.headers, 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const retriesLeft = attempt < this.#options.maxRetries;
      // One controller per attempt: the caller's abort and the header timeout both end it, and so
      // does a body still unread when its reader is done and the rest does not come in time.
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(new DOMException(`No answer from the model within ${this.#options.readTimeoutMs} ms.`, 'TimeoutError')), this.#options.readTimeoutMs);
      const forget = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const close = (): void => {
        forget();
        if (!controller.signal.aborted) controller.abort(abortError());
      };
      let response: Dispatcher.ResponseData;
      try {
        response = await request(url, { method: 'POST', headers, body: payload, signal: controller.signal, dispatcher: this.#dispatcher });
      } catch (err) {
        close();
        if (signal?.aborted) throw abortError();
        // A connection that failed before any answer is safe to try again, like the openai client does.
        if (retriesLeft && !(err instanceof DOMException && err.name === 'TimeoutError')) {
          await sleep(backoffMs(attempt), undefined, signal ? { signal } : undefined).catch(() => {
            throw abortError();
          });
          continue;
        }
        throw err;
      }
      clearTimeout(timer);
      const body = response.body;
      let released = false;
      const release = (): void => {
        if (released) return;
        released = true;
        forget();
        if (controller.signal.aborted || body.readableEnded || body.destroyed) return;
        const drained = setTimeout(close, DRAIN_MS).unref();
        body.once('close', () => clearTimeout(drained));
        body.on('error', () => undefined);
        body.resume();
      };
      const answer: OpenAnswer = { status: response.statusCode, headers: headersOf(response.headers), body, close, release };
      if (answer.status >= 200 && answer.status < 300) return answer;
      const retry = retriesLeft && shouldRetry(answer.status, answer.headers);
      const error = ProviderHttpError.fromBody(answer.status, answer.headers, await answer.body.text().catch(() => ''));
      close();
      if (!retry) throw error;
      await sleep(error.retryAfterMs ?? backoffMs(attempt), undefined, signal ? { signal } : undefined).catch(() => {
        throw abortError();
      });
    }
  }

  /** A non-streamed call: the parsed JSON answer. */
  async json(operation: Operation, model: string, payload: string, signal: AbortSignal | undefined): Promise<{ body: unknown; requestId: string | undefined }> {
    const answer = await this.open(operation, model, payload, false, signal);
    try {
      const text = await answer.body.text();
      return { body: JSON.parse(text) as unknown, requestId: answer.headers.get('x-request-id') ?? undefined };
    } catch (err) {
      if (signal?.aborted) throw abortError();
      throw err;
    } finally {
      answer.release();
    }
  }

  /**
   * Reads a streamed answer's server-sent events as they arrive: `reader.batch` gets each network
   * chunk's events (one call per chunk, never per event, and no promise in between), then
   * `reader.end` when the body ends, or `reader.fail` once if reading fails (an `AbortError` when
   * `signal` aborted). `stop` ends the reading and releases the answer (`OpenAnswer.release`).
   */
  read(answer: OpenAnswer, signal: AbortSignal | undefined, reader: AnswerReader): Reading {
    const body = answer.body;
    let batch: SseMessage[] = [];
    const parser = createParser({ onEvent: (event) => void batch.push(event) });
    const decoder = new TextDecoder();
    let settled = false;
    let held = false;
    const deliver = (): void => {
      if (batch.length === 0) return;
      const parsed = batch;
      batch = [];
      reader.batch(parsed);
    };
    // Everything the body holds at once, as one batch: the HTTP chunks of one socket read (a
    // provider writes each event as a chunk of its own) come together, and a server that reads a
    // stream late finds them joined.
    const onReadable = (): void => {
      if (held) return;
      let chunk: Buffer | null;
      while ((chunk = body.read() as Buffer | null) !== null) parser.feed(decoder.decode(chunk, { stream: true }));
      deliver();
    };
    const onEnd = (): void => {
      parser.feed(decoder.decode());
      deliver();
      if (settled) return;
      settled = true;
      reader.end();
    };
    const onError = (err: unknown): void => {
      if (settled) return;
      settled = true;
      reader.fail(signal?.aborted ? abortError() : err);
    };
    // Destroyed without an error or an end (never by undici itself): still an answer cut short.
    const onClose = (): void => {
      if (!settled) onError(new Error('The model\'s answer ended before it was complete.'));
    };
    body.on('readable', onReadable);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
    let stopped = false;
    return {
      pause: () => void (held = true),
      resume: () => {
        if (!held) return;
        held = false;
        if (!stopped) onReadable();
      },
      stop: () => {
        if (stopped) return;
        stopped = true;
        settled = true;
        body.off('readable', onReadable);
        body.off('end', onEnd);
        body.off('error', onError);
        body.off('close', onClose);
        answer.release();
      },
    };
  }
}

/** Who reads a streamed answer (`SseTransport.read`). */
export interface AnswerReader {
  /** One network chunk's server-sent events (at least one), in order. */
  batch(messages: readonly SseMessage[]): void;
  /** The body ended. */
  end(): void;
  /** Reading failed; nothing is read after. */
  fail(err: unknown): void;
}

/** A streamed answer being read. */
export interface Reading {
  /** Holds the body back (the reader has enough waiting); `resume` goes on. */
  pause(): void;
  resume(): void;
  /** Stops reading (idempotent) and releases the answer: the rest of its body is not delivered. */
  stop(): void;
}
