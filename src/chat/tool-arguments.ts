/** A tool call's arguments as the model streamed them (JSON text), read into the object stored and shown. */

/** Tool arguments as an object, encoded once; a model that sends broken JSON keeps its text. */
export function parseArguments(text: string): Record<string, unknown> {
  if (text.trim() === '') return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { value: parsed };
  } catch {
    return { _raw: text };
  }
}
