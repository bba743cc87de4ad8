/** Classifies driver errors: transient (retry), unavailable (503) or plain database errors. */
import { AppError } from '../errors/app-error.js';

const TRANSIENT_SQLSTATES = new Set(['40001', '40P01', '57P01', '57P02', '57P03', '53300']);
const CONNECTION_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const CONNECTION_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended',
  'Query read timeout',
];

function field(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined;
}

/** True when the database could not be reached or dropped the connection. */
export function isConnectionError(err: unknown): boolean {
  const code = field(err, 'code');
  if (typeof code === 'string' && (CONNECTION_ERRNOS.has(code) || code.startsWith('08'))) return true;
  const message = field(err, 'message');
  return typeof message === 'string' && CONNECTION_MESSAGES.some((m) => message.includes(m));
}

/**
 * PostgreSQL's "cached plan must not change result type" (feature_not_supported): a table changed
 * under a prepared `SELECT *` (a migration after the statement was prepared).
 */
export function isChangedResultType(err: unknown): boolean {
  const message = field(err, 'message');
  return field(err, 'code') === '0A000' && typeof message === 'string' && message.includes('cached plan must not change result type');
}

/** True for errors worth retrying: lost connections, admin shutdown, serialization failures, deadlocks. */
export function isTransientError(err: unknown): boolean {
  const code = field(err, 'code');
  if (typeof code === 'string' && TRANSIENT_SQLSTATES.has(code)) return true;
  return isConnectionError(err);
}

/**
 * PostgreSQL cannot store U+0000: in text it is 22021 ("invalid byte sequence … 0x00"), in jsonb
 * 22P05 ("unsupported Unicode escape sequence"). jsonb refuses an unpaired surrogate escape
 * (`\ud800`) with 22P02 and a detail naming the surrogate. That is the input's fault, not the database's.
 */
function unstorableTextMessage(err: unknown): string | undefined {
  const code = field(err, 'code');
  const text = (key: string) => {
    const value = field(err, key);
    return typeof value === 'string' ? value : '';
  };
  if ((code === '22021' && text('message').includes('0x00')) || (code === '22P05' && /\\u0000|Unicode escape/i.test(text('message')))) {
    return 'The text contains the NUL character (U+0000), which cannot be stored; remove it and send again.';
  }
  if (code === '22P02' && /surrogate/i.test(`${text('message')} ${text('detail')}`)) {
    return 'The text contains an unpaired UTF-16 surrogate, which is not valid Unicode and cannot be stored; send valid text.';
  }
  return undefined;
}

/** Turns a driver error into the wire error the client should see (VAL_2001 for text that cannot be stored, DB_8002 or DB_8001). */
export function toDatabaseAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const unstorable = unstorableTextMessage(err);
  if (unstorable !== undefined) return new AppError('VAL_2001', unstorable, undefined, { cause: err });
  if (isConnectionError(err) || field(err, 'code') === '57P01' || field(err, 'code') === '57P03') {
    return new AppError('DB_8002', 'The database is unavailable; try again shortly.', undefined, { cause: err });
  }
  return new AppError('DB_8001', undefined, undefined, { cause: err });
}
