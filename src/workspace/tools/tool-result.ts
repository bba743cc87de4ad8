/**
 * Tool results as the model reads them: JSON strings, `{success: true, ...}` or
 * `{success: false, error: {code, message}}`. Errors become results (the turn goes on); only a
 * cancellation (the turn's signal aborted) is thrown, so the SDK can stop the turn.
 */
import { AppError, type ErrorCode } from '../../errors/app-error.js';
import { toFileAppError } from '../jail.js';

export interface ToolErrorBody {
  success: false;
  error: { code: ErrorCode; message: string };
}

export function okResult(data: object): string {
  return JSON.stringify({ success: true, ...data });
}

export function errorResult(code: ErrorCode, message: string): string {
  const body: ToolErrorBody = { success: false, error: { code, message } };
  return JSON.stringify(body);
}

/** An unknown error never shows its message (it may hold host paths); file-system codes are named. */
export function toErrorResult(err: unknown, shownPath: string): string {
  const appError = err instanceof AppError ? err : toFileAppError(err, shownPath);
  return errorResult(appError.code, appError.message);
}

/**
 * Runs a tool body: returns its JSON, or a JSON error result; rethrows only when `signal` was
 * aborted (cancellation is not an error the model should read).
 */
export async function runTool(signal: AbortSignal | undefined, shownPath: string, body: () => Promise<string>): Promise<string> {
  try {
    signal?.throwIfAborted();
    return await body();
  } catch (err) {
    if (signal?.aborted) throw signal.reason ?? err;
    return toErrorResult(err, shownPath);
  }
}

/** For the SDK's `errorFunction`: arguments that fail the zod schema come back as a readable result. */
export function invalidArgumentsResult(err: unknown): string {
  const detail = err instanceof Error ? err.message : 'the arguments do not match the tool schema';
  return errorResult('VAL_2001', `Invalid tool arguments: ${detail.slice(0, 500)}`);
}
