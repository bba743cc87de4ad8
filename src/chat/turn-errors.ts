/**
 * Maps whatever ended a turn badly to the one wire error a client sees (EXT_7010 provider error,
 * EXT_7003 rate limit, EXT_7002 timeout, CTX_4101 context too large). Raw exception text never
 * reaches the client: each code gets a fixed human message.
 */
import { MaxTurnsExceededError, ModelTimeoutError, ToolTimeoutError } from '@openai/agents';
import { APIConnectionTimeoutError, APIError } from 'openai';
import { AppError } from '../errors/app-error.js';
import { Timeout } from './cancellation.js';

export { MaxTurnsExceededError };

function statusOf(err: unknown): number | undefined {
  if (err instanceof APIError && typeof err.status === 'number') return err.status;
  const status = typeof err === 'object' && err !== null ? (err as { status?: unknown }).status : undefined;
  return typeof status === 'number' ? status : undefined;
}

function codeOf(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

/** The default `classifyError`: AppErrors pass through; provider failures get their wire code. */
export function defaultClassifyError(err: unknown): AppError {
  if (err instanceof AppError) return err;
  if (err instanceof Timeout || err instanceof ModelTimeoutError || err instanceof ToolTimeoutError || err instanceof APIConnectionTimeoutError) {
    return new AppError('EXT_7002', 'The model provider did not answer in time.', undefined, { cause: err });
  }
  const status = statusOf(err);
  if (status === 429) return new AppError('EXT_7003', 'The model provider is rate limiting requests; try again shortly.', undefined, { cause: err });
  if (codeOf(err) === 'context_length_exceeded') {
    return new AppError('CTX_4101', 'The conversation is too large for the model.', undefined, { cause: err });
  }
  if (status === 408 || status === 504) return new AppError('EXT_7002', 'The model provider did not answer in time.', undefined, { cause: err });
  return new AppError('EXT_7010', 'The model provider failed to answer.', undefined, { cause: err });
}

/** Errors the user can fix by waiting or retrying; a context that does not fit is not. */
export function isRecoverable(err: AppError): boolean {
  return err.code !== 'CTX_4101';
}
