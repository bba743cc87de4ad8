/**
 * What a model server's error answer becomes. Shaped like the `openai` client's `APIError`
 * (`status`, `code`, `type`, `param`, `headers`, message "429 the provider's words") because
 * `classifyProviderError` recognises errors by those fields, not by class.
 */

/** Longest wait a `retry-after` header may ask for before the one retry; longer asks are not honoured. */
export const MAX_RETRY_AFTER_MS = 60_000;

type Json = Record<string, unknown>;

const asRecord = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/**
 * The wait a response asks for before a retry, in ms: `retry-after-ms`, else `retry-after` in
 * seconds or as an HTTP date. Undefined when absent, unreadable, negative or over a minute.
 */
export function retryAfterMs(headers: Headers): number | undefined {
  const millis = headers.get('retry-after-ms');
  let wait = millis === null ? Number.NaN : Number.parseFloat(millis);
  const after = headers.get('retry-after');
  if (Number.isNaN(wait) && after !== null) {
    const seconds = Number.parseFloat(after);
    wait = Number.isNaN(seconds) ? Date.parse(after) - Date.now() : seconds * 1000;
  }
  return Number.isFinite(wait) && wait >= 0 && wait <= MAX_RETRY_AFTER_MS ? wait : undefined;
}

export class ProviderHttpError extends Error {
  override name = 'ProviderHttpError';
  /** HTTP status; undefined for an error sent inside a stream that had started well. */
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly type: string | undefined;
  readonly param: string | undefined;
  readonly headers: Headers | undefined;
  /** The provider's `retry-after` wait in ms, when it named one within a minute. */
  readonly retryAfterMs: number | undefined;
  readonly requestId: string | undefined;
  /** The error object the provider sent (`{ message, type, code, param }` on OpenAI-style servers). */
  readonly error: unknown;

  constructor(status: number | undefined, error: unknown, headers?: Headers) {
    const body = asRecord(error);
    const words = str(body?.message) ?? (error === undefined || error === null ? undefined : typeof error === 'string' ? error : JSON.stringify(error));
    super(status !== undefined ? `${status} ${words ?? 'status code (no body)'}` : (words ?? 'The model stream reported an error.'));
    this.status = status;
    this.error = error;
    this.code = str(body?.code);
    this.type = str(body?.type);
    this.param = str(body?.param);
    this.headers = headers;
    this.retryAfterMs = headers ? retryAfterMs(headers) : undefined;
    this.requestId = headers?.get('x-request-id') ?? undefined;
  }

  /** An error answer from its body: JSON `{ error: {...} }`, any JSON, or plain text. */
  static fromBody(status: number, headers: Headers, text: string): ProviderHttpError {
    let error: unknown = text === '' ? undefined : text;
    try {
      const parsed: unknown = JSON.parse(text);
      error = asRecord(parsed)?.error ?? parsed;
    } catch {
      // Not JSON: the text itself is the provider's message.
    }
    return new ProviderHttpError(status, error, headers);
  }
}
