/**
 * Turns any error into the one error envelope. Framework errors (bad JSON, body too large,
 * wrong content type, validation) get their own codes; unknown errors become `INT_9001` and are
 * logged with their cause. Stack traces, SQL and secrets leave only with `DEBUG=true`.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, ERROR_CODES, type ErrorCode, type ErrorDetail } from '../errors/app-error.js';
import { isConnectionError, toDatabaseAppError } from '../db/errors.js';

export interface ErrorBody {
  error: {
    code: ErrorCode;
    message: string;
    request_id: string;
    timestamp: string;
    path: string;
    details?: ErrorDetail[];
    /** Seconds to wait before trying again (refusals by a limit; the same as `Retry-After`). */
    retry_after?: number;
    debug?: { name: string; message: string; stack?: string };
  };
}

export function errorBody(
  error: AppError,
  request: { id: string; url: string },
  debug?: unknown,
): ErrorBody {
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      request_id: request.id,
      timestamp: new Date().toISOString(),
      path: request.url.split('?')[0] ?? request.url,
    },
  };
  if (error.details?.length) body.error.details = error.details;
  if (error.retryAfterS !== undefined) body.error.retry_after = error.retryAfterS;
  if (debug instanceof Error) body.error.debug = { name: debug.name, message: debug.message, stack: debug.stack };
  return body;
}

interface ValidationIssue {
  instancePath?: string;
  message?: string;
  keyword?: string;
  params?: Record<string, unknown>;
}

function fieldOf(issue: ValidationIssue, context: string | undefined): string {
  const fromPath = (issue.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
  const missing = issue.params?.missingProperty;
  const name = fromPath || (typeof missing === 'string' ? missing : '');
  return name || context || 'body';
}

/** Maps an error thrown in a route (or by Fastify itself) to an `AppError`. */
export function toAppError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  const fe = err as Partial<FastifyError> & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(fe.validation)) {
    const details = fe.validation.map((issue) => ({
      field: fieldOf(issue, fe.validationContext),
      message: issue.message ?? 'is invalid',
      ...(issue.keyword ? { code: issue.keyword } : {}),
    }));
    const summary = details.map((d) => `${d.field}: ${d.message}`).join('; ');
    return new AppError('VAL_2001', `Validation failed: ${summary}`, details, { cause: err });
  }
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('VAL_2002', fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'The JSON body is empty.' : undefined, undefined, { cause: err });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('VAL_2003', 'The request body is larger than the limit (1 MiB for JSON).', undefined, { cause: err });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('VAL_2004', 'Unsupported content type; send application/json.', undefined, { cause: err });
    case 'FST_ERR_BAD_URL':
      return new AppError('VAL_2005', 'The URL is malformed: it has a percent sign that is not followed by two hex digits.', undefined, { cause: err });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new AppError('VAL_2006', 'A part of the URL is longer than 500 characters.', undefined, { cause: err });
    case 'FST_ERR_ASYNC_CONSTRAINT':
      return new AppError('VAL_2005', undefined, undefined, { cause: err });
  }
  if (err instanceof SyntaxError && fe.statusCode === 400) return new AppError('VAL_2002', undefined, undefined, { cause: err });
  if (isConnectionError(err)) return toDatabaseAppError(err);
  if (typeof fe.code === 'string' && /^(08|57|53|40|42|23|22)[0-9A-Z]{3}$/.test(fe.code)) return toDatabaseAppError(err);
  const status = fe.statusCode ?? 500;
  if (status === 404) return new AppError('RES_3001', undefined, undefined, { cause: err });
  if (status === 405) return new AppError('RES_3005', undefined, undefined, { cause: err });
  if (status === 413) return new AppError('VAL_2003', undefined, undefined, { cause: err });
  if (status === 414) return new AppError('VAL_2006', undefined, undefined, { cause: err });
  if (status === 415) return new AppError('VAL_2004', undefined, undefined, { cause: err });
  if (status === 431) return new AppError('VAL_2007', undefined, undefined, { cause: err });
  if (status >= 400 && status < 500) return new AppError('VAL_2002', 'The request is malformed.', undefined, { cause: err });
  return new AppError('INT_9001', ERROR_CODES.INT_9001.message, undefined, { cause: err });
}

export function sendError(
  err: unknown,
  request: FastifyRequest,
  reply: FastifyReply,
  debug: boolean,
): FastifyReply {
  const appError = toAppError(err);
  if (appError.status >= 500) {
    request.log.error({ err: appError.cause ?? appError, code: appError.code }, 'request failed');
  } else {
    request.log.info({ code: appError.code, status: appError.status }, appError.message);
  }
  if (appError.retryAfterS !== undefined) void reply.header('retry-after', String(appError.retryAfterS));
  return reply
    .code(appError.status)
    .type('application/json; charset=utf-8')
    .send(errorBody(appError, request, debug ? (appError.cause ?? appError) : undefined));
}

/**
 * Answers an HTTP parse error on the raw socket (no request object exists yet) with the same
 * envelope: headers too large is 431 `VAL_2007`, anything else 400 `VAL_2005`. The connection
 * is closed afterwards, as Node does, since the stream can no longer be trusted.
 */
export function answerClientError(err: NodeJS.ErrnoException, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
    socket.destroy(err);
    return;
  }
  const appError =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError('VAL_2007', 'The request headers are larger than the limit (16 KiB).')
      : new AppError('VAL_2005', 'The request could not be parsed as HTTP.');
  const body = JSON.stringify(errorBody(appError, { id: randomUUID(), url: '' }));
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${appError.status} ${STATUS_CODES[appError.status] ?? ''}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
