/**
 * The SDK items carry `providerData`: fields of the wire format the SDK has no name for. Request
 * builders spread them back into the wire items, minus the fields they set themselves, exactly as
 * the SDK's own converters do, so a history replays the same whichever adapter wrote it.
 */
export type Json = Record<string, unknown>;

export const asRecord = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);
export const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
export const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/** `value`'s own fields without `reserved`; `{}` when it is not an object. */
export function withoutKeys(value: unknown, reserved: readonly string[]): Json {
  const record = asRecord(value);
  if (!record) return {};
  const out: Json = {};
  for (const [key, entry] of Object.entries(record)) if (!reserved.includes(key)) out[key] = entry;
  return out;
}

const snake = (key: string): string => key.replace(/([A-Z])/g, '_$1').toLowerCase();

/** Keys turned to snake_case, recursively through objects (arrays are copied as they are). */
export function snakeCased(value: unknown): unknown {
  if (Array.isArray(value)) return value.slice();
  const record = asRecord(value);
  if (!record) return value;
  const out: Json = {};
  for (const [key, entry] of Object.entries(record)) out[snake(key)] = snakeCased(entry);
  return out;
}

/** `withoutKeys` after turning the keys to snake_case (the Responses API's spelling). */
export function snakeWithoutKeys(value: unknown, reserved: readonly string[]): Json {
  // Most items carry no providerData; a long history would convert the reserved names for each.
  if (!asRecord(value)) return {};
  return withoutKeys(snakeCased(value), reserved.map(snake));
}
