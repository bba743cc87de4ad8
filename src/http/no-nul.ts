/**
 * Refuses U+0000 anywhere in a request's JSON body, query or path parameters. PostgreSQL text and
 * jsonb cannot hold it, so a NUL that reached the database became a 500; refusing it up front,
 * for every route at once, gives the user a 422 naming the field, and nothing is stored cut short.
 */
import { AppError } from '../errors/app-error.js';

const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
/** Deeper than any body Pulp accepts; bounds the walk on a hostile body. */
const MAX_DEPTH = 64;

/** The dotted path of the first string (or key) holding U+0000 in `value`, or undefined. */
export function findNul(value: unknown, at = '', depth = 0): string | undefined {
  if (typeof value === 'string') return value.includes('\0') ? at : undefined;
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return undefined;
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) {
      const found = findNul(item, at ? `${at}.${i}` : String(i), depth + 1);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, item] of Object.entries(value)) {
    const here = at ? `${at}.${key}` : key;
    if (key.includes('\0')) return here;
    const found = findNul(item, here, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A `preValidation` hook: throws VAL_2001 naming the field that holds U+0000. */
export async function refuseNul(request: { body?: unknown; query?: unknown; params?: unknown }): Promise<void> {
  for (const [part, value] of [['body', request.body], ['query', request.query], ['params', request.params]] as const) {
    const found = findNul(value);
    if (found === undefined) continue;
    const field = found || part;
    throw new AppError('VAL_2001', `Validation failed: ${field}: ${NUL_MESSAGE}`, [{ field, message: NUL_MESSAGE, code: 'nul_character' }]);
  }
}
