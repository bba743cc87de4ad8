/**
 * Text PostgreSQL cannot store as sent. U+0000 is refused by text and jsonb alike; an unpaired
 * UTF-16 surrogate (U+D800–U+DFFF on its own, which JSON's `\ud800` escape can carry) is refused
 * by jsonb and silently turned into U+FFFD in text. Either way the user's words would fail or
 * change after the fact, so input holding them is refused up front with the reason.
 */

export const NUL_MESSAGE = 'must not contain the NUL character (U+0000)';
export const SURROGATE_MESSAGE = 'must not contain an unpaired UTF-16 surrogate (U+D800–U+DFFF), which is not valid Unicode text';

/** A high surrogate not followed by a low one, or a low surrogate not preceded by a high one. */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Why `text` cannot be stored as it is, or undefined when it can. */
export function unstorableReason(text: string): string | undefined {
  if (text.includes('\0')) return NUL_MESSAGE;
  if (UNPAIRED_SURROGATE.test(text)) return SURROGATE_MESSAGE;
  return undefined;
}
