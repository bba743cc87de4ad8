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

const UNSTORABLE = new RegExp(`\\u0000|${UNPAIRED_SURROGATE.source}`, 'g');

/**
 * `text` with U+0000 and unpaired surrogates replaced by U+FFFD. For text Pulp did not get from
 * the user — the model's answer, tool arguments and results — which must be saved, not refused.
 */
export function toStorableText(text: string): string {
  return text.replace(UNSTORABLE, '\ufffd');
}

/** JSON text for a jsonb parameter, every string and key made storable (`toStorableText`). */
export function toStorableJson(value: unknown): string {
  const json = JSON.stringify(value, (_key, item: unknown) => {
    if (typeof item === 'string') return toStorableText(item);
    if (item === null || typeof item !== 'object' || Array.isArray(item)) return item;
    const entries = Object.entries(item as Record<string, unknown>);
    return entries.some(([key]) => unstorableReason(key) !== undefined) ? Object.fromEntries(entries.map(([key, v]) => [toStorableText(key), v])) : item;
  });
  return json ?? 'null';
}

/** A copy of a JSON object with every string and key made storable, for a jsonb parameter the driver serializes. */
export function toStorableObject(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(toStorableJson(value)) as Record<string, unknown>;
}
