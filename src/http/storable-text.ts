/**
 * Refuses text PostgreSQL cannot store (U+0000, unpaired surrogates; see `util/storable-text.ts`)
 * anywhere in a request's JSON body, query or path parameters. A NUL that reached the database
 * became a 500 and a lone surrogate became U+FFFD without a word; refusing both up front, for
 * every route at once, gives the user a 422 naming the field, and nothing is stored changed.
 */
import { AppError } from '../errors/app-error.js';
import { unstorableReason } from '../util/storable-text.js';

/** Deeper than any body Pulp accepts; bounds the walk on a hostile body. */
const MAX_DEPTH = 64;

export interface UnstorableField {
  /** The dotted path of the string or key ('' for the value itself). */
  field: string;
  message: string;
}

/** The first string (or key) in `value` that cannot be stored, or undefined. */
export function findUnstorable(value: unknown, at = '', depth = 0): UnstorableField | undefined {
  if (typeof value === 'string') {
    const message = unstorableReason(value);
    return message === undefined ? undefined : { field: at, message };
  }
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findUnstorable(item, at ? `${at}.${i}` : String(i), depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const here = at ? `${at}.${key}` : key;
    const keyMessage = unstorableReason(key);
    if (keyMessage !== undefined) return { field: here, message: keyMessage };
    const found = findUnstorable(item, here, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A `preValidation` hook: throws VAL_2001 naming the field that holds text that cannot be stored. */
export async function refuseUnstorableText(request: { body?: unknown; query?: unknown; params?: unknown }): Promise<void> {
  for (const [part, value] of [['body', request.body], ['query', request.query], ['params', request.params]] as const) {
    const found = findUnstorable(value);
    if (found === undefined) continue;
    const field = found.field || part;
    const code = found.message.includes('NUL') ? 'nul_character' : 'unpaired_surrogate';
    throw new AppError('VAL_2001', `Validation failed: ${field}: ${found.message}`, [{ field, message: found.message, code }]);
  }
}
