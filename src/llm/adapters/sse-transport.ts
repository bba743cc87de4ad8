/**
 * The HTTP side shared by every wire format: POST a JSON body with Node's built-in fetch (undici,
 * keep-alive connections), retry once where the `openai` client would, and read a streamed answer
 * as server-sent events with `eventsource-parser`. Knows nothing of what the events mean.
 *
 * Timing: the caller's signal aborts the request, a retry wait and the body at once (the socket
 * is closed, so the server sees the client go). The read timeout covers the wait for the answer's
 * headers only: a stream that keeps sending may run as long as it likes, and an idle one is ended
 * by undici's body timeout (300 s).
 */
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Endpoint, Operation } from './endpoint.js';
import { ProviderHttpError } from './provider-http-error.js';

export type SseMessage = EventSourceMessage;

export interface TransportOptions {
  /** Longest wait for the answer's headers, in ms. */
  readTimeoutMs: number;
  /** Retries after a failed attempt (a dropped connection, 408, 409, 429, 5xx). */
  maxRetries: number;
  /** Replaces the global fetch (tests, proxies). */
  fetch?: typeof fetch;
}

/** An answer whose headers arrived with a 2xx status; its body is still unread. */
export interface OpenAnswer {
  response: Response;
  /** Ends the request (idempotent): closes the socket if the body is still being read. */
  close(): void;
}

/** The `openai` client's rule: obey `x-should-retry`, else retry 408, 409, 429 and 5xx. */
function shouldRetry(response: Response): boolean {
  const header = response.headers.get('x-should-retry');
  if (header === 'true') return true;
  if (header === 'false') return false;
  return response.status === 408 || response.status === 409 || response.status === 429 || response.status >= 500;
}

/** The `openai` client's default back-off: 0.5 s doubling per retry, at most 8 s, minus up to 25 % jitter. */
function backoffMs(retry: number): number {
  return Math.min(500 * 2 ** retry, 8000) * (1 - Math.random() * 0.25);
}

const abortError = (): DOMException => new DOMException('The operation was aborted.', 'AbortError');

export class SseTransport {
  readonly #endpoint: Endpoint;
  readonly #options: TransportOptions;
  readonly #fetch: typeof fetch;

  constructor(endpoint: Endpoint, options: TransportOptions) {
    this.#endpoint = endpoint;
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
  }

  /**
   * POSTs `body` and returns once a 2xx answer's headers arrived. A non-2xx answer throws
   * `ProviderHttpError`; a user abort throws an `AbortError`; the read timeout a `TimeoutError`.
   */
  async open(operation: Operation, model: string, body: unknown, stream: boolean, signal: AbortSignal | undefined): Promise<OpenAnswer> {
    const url = this.#endpoint.url(operation, model);
    const payload = JSON.stringify(body);
    const headers = { ...this.#endpoint.headers, 'content-type': 'application/json', accept: stream ? 'text/event-stream' : 'application/json' };
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted();
      const retriesLeft = attempt < this.#options.maxRetries;
      // One controller per attempt: the caller's abort and the header timeout both end it, and
      // the stream reader ends it when the consumer stops early.
      const controller = new AbortController();
      const onAbort = (): void => controller.abort(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(new DOMException(`No answer from the model within ${this.#options.readTimeoutMs} ms.`, 'TimeoutError')), this.#options.readTimeoutMs);
      const close = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (!controller.signal.aborted) controller.abort(abortError());
      };
      let response: Response;
      try {
        response = await this.#fetch(url, { method: 'POST', headers, body: payload, signal: controller.signal, redirect: this.#endpoint.redirect });
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
      if (response.ok) return { response, close };
      const retry = retriesLeft && shouldRetry(response);
      const error = await ProviderHttpError.fromResponse(response);
      close();
      if (!retry) throw error;
      await sleep(error.retryAfterMs ?? backoffMs(attempt), undefined, signal ? { signal } : undefined).catch(() => {
        throw abortError();
      });
    }
  }

  /** A non-streamed call: the parsed JSON answer. */
  async json(operation: Operation, model: string, body: unknown, signal: AbortSignal | undefined): Promise<{ body: unknown; requestId: string | undefined }> {
    const answer = await this.open(operation, model, body, false, signal);
    try {
      const text = await answer.response.text();
      return { body: JSON.parse(text) as unknown, requestId: answer.response.headers.get('x-request-id') ?? undefined };
    } catch (err) {
      if (signal?.aborted) throw abortError();
      throw err;
    } finally {
      answer.close();
    }
  }

  /**
   * A streamed call: the server-sent events of the answer, in order, a batch per network chunk (one
   * step of the consumer's loop per chunk rather than per event). Stopping the iteration early
   * closes the request. An abort while reading throws an `AbortError`.
   */
  async *events(answer: OpenAnswer, signal: AbortSignal | undefined): AsyncGenerator<readonly SseMessage[]> {
    const body = answer.response.body;
    if (!body) return answer.close();
    let batch: SseMessage[] = [];
    const parser = createParser({ onEvent: (event) => void batch.push(event) });
    const decoder = new TextDecoder();
    try {
      for await (const chunk of body) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        if (batch.length === 0) continue;
        const parsed = batch;
        batch = [];
        yield parsed;
      }
      parser.feed(decoder.decode());
      if (batch.length > 0) yield batch;
    } catch (err) {
      if (signal?.aborted) throw abortError();
      throw err;
    } finally {
      answer.close();
    }
  }
}
