/**
 * Turns whatever a model run throws into the wire error a client may see:
 * `EXT_7003` rate limit, `EXT_7002` timeout, `CTX_4101` context too large, `EXT_7010` any other
 * provider failure. Messages are short, human, and scrubbed of credentials: the configured keys
 * and anything that looks like a key or a bearer token never leave this function.
 *
 * Errors are recognised by shape (status, code, name, cause chain), not `instanceof`, because the
 * `openai` client classes may come from more than one copy of the package.
 */
import { AppError, isAppError } from '../errors/app-error.js';

/** Longest provider message passed on to the client. */
const MAX_PROVIDER_MESSAGE = 300;
/** How deep the `cause` chain is searched for a timeout or a status. */
const MAX_CAUSE_DEPTH = 6;

const TIMEOUT_CODES = new Set(['ETIMEDOUT', 'ESOCKETTIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
const TIMEOUT_NAMES = new Set(['APIConnectionTimeoutError', 'ModelTimeoutError', 'TimeoutError', 'ConnectTimeoutError', 'HeadersTimeoutError', 'BodyTimeoutError']);
const CONTEXT_CODES = new Set(['context_length_exceeded', 'string_above_max_length']);
const CONTEXT_MESSAGE = /maximum context length|context[_ ]length|context window|too many tokens|prompt is too long/i;

/** Secret-looking text: OpenAI-style keys and bearer tokens, then labelled values (`api-key: …`). */
const SECRET_PATTERNS: RegExp[] = [/\bsk-[A-Za-z0-9_*.-]{6,}/g, /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi];
const LABELLED_SECRET = /\b(api[-_]?key|key|token|secret|password)(["']?\s*[:=]\s*["']?)[^\s"'&,;]+/gi;

interface ErrorShape {
  name: string;
  message: string;
  status: number | undefined;
  code: string | undefined;
}

function shapeOf(err: unknown): ErrorShape | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { name?: unknown; message?: unknown; status?: unknown; code?: unknown; constructor?: { name?: unknown } };
  const ctorName = typeof e.constructor?.name === 'string' ? e.constructor.name : '';
  return {
    name: typeof e.name === 'string' && e.name !== 'Error' ? e.name : ctorName,
    message: typeof e.message === 'string' ? e.message : '',
    status: typeof e.status === 'number' ? e.status : undefined,
    code: typeof e.code === 'string' ? e.code : undefined,
  };
}

/** The error and its causes, outermost first. */
function chain(err: unknown): ErrorShape[] {
  const out: ErrorShape[] = [];
  let current: unknown = err;
  for (let depth = 0; depth < MAX_CAUSE_DEPTH && current !== undefined && current !== null; depth += 1) {
    const shape = shapeOf(current);
    if (!shape) break;
    out.push(shape);
    current = (current as { cause?: unknown }).cause;
  }
  return out;
}

/** Removes the given secrets and anything secret-looking from `text`, and bounds its length. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join('[redacted]');
  }
  for (const pattern of SECRET_PATTERNS) out = out.replace(pattern, '[redacted]');
  out = out.replace(LABELLED_SECRET, (_match, label: string, sep: string) => `${label}${sep}[redacted]`);
  return out.length > MAX_PROVIDER_MESSAGE ? `${out.slice(0, MAX_PROVIDER_MESSAGE)}…` : out;
}

/** The provider's own words, without the client library's "429 " status prefix. */
function providerWords(shape: ErrorShape, secrets: readonly (string | undefined)[]): string {
  const text = shape.message.replace(/^\d{3}\s+/, '').trim();
  return text === '' ? '' : ` The provider said: ${redactSecrets(text, secrets)}`;
}

export interface ClassifyOptions {
  /** Credentials to scrub from messages (the configured API keys). */
  secrets?: readonly (string | undefined)[];
}

/**
 * Classifies an error thrown by a model run. An `AppError` passes through unchanged (e.g. a
 * `CTX_4101` raised before the call); everything else becomes EXT_7003, EXT_7002, CTX_4101 or
 * EXT_7010, with the original kept as `cause` for the logs (never serialized to clients).
 */
export function classifyProviderError(err: unknown, options: ClassifyOptions = {}): AppError {
  if (isAppError(err)) return err;
  const secrets = options.secrets ?? [];
  const links = chain(err);
  const top = links[0] ?? { name: 'Error', message: String(err), status: undefined, code: undefined };
  const withStatus = links.find((l) => l.status !== undefined);
  const status = withStatus?.status;

  if (status === 429 || links.some((l) => l.name === 'RateLimitError')) {
    const quota = links.some((l) => l.code === 'insufficient_quota');
    const what = quota ? 'The model provider refused the request: the account is out of quota (HTTP 429).' : 'The model provider is rate limiting requests (HTTP 429); try again in a moment.';
    return new AppError('EXT_7003', `${what}${providerWords(withStatus ?? top, secrets)}`, undefined, { cause: err });
  }
  if (status === 408 || status === 504 || links.some((l) => TIMEOUT_NAMES.has(l.name) || (l.code !== undefined && TIMEOUT_CODES.has(l.code)))) {
    return new AppError('EXT_7002', 'The model provider did not answer in time.', undefined, { cause: err });
  }
  if (links.some((l) => (l.code !== undefined && CONTEXT_CODES.has(l.code)) || ((l.status === 400 || l.status === 413) && CONTEXT_MESSAGE.test(l.message)))) {
    return new AppError('CTX_4101', 'The conversation is too large for the model’s context window.', undefined, { cause: err });
  }
  if (status !== undefined) {
    return new AppError('EXT_7010', `The model provider answered with an error (HTTP ${status}).${providerWords(withStatus ?? top, secrets)}`, undefined, { cause: err });
  }
  if (links.some((l) => l.name === 'APIConnectionError' || /^E(CONNREFUSED|CONNRESET|NOTFOUND|AI_AGAIN|HOSTUNREACH|NETUNREACH)$/.test(l.code ?? ''))) {
    return new AppError('EXT_7010', 'Could not reach the model provider (connection failed).', undefined, { cause: err });
  }
  if (top.name === 'ModelBehaviorError') {
    return new AppError('EXT_7010', `The model gave an answer Pulp could not use.${providerWords(top, secrets)}`, undefined, { cause: err });
  }
  return new AppError('EXT_7010', 'The model provider failed.', undefined, { cause: err });
}
