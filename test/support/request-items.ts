/** Reading what the fake model was sent (Responses API input items), for through-turn tests. */
import type { RecordedRequest } from './fake-openai.js';

export type Item = { type?: string; role?: string; content?: unknown; call_id?: string; output?: unknown };

export const textOf = (content: unknown): string =>
  typeof content === 'string' ? content : Array.isArray(content) ? content.map((p: { text?: string }) => p.text ?? '').join('') : '';

/** The user text of the current turn and the items after it (everything after the last user message). */
export function turnItems(request: RecordedRequest): { user: string; after: Item[] } {
  const input = (request.body.input ?? []) as Item[];
  const last = input.map((i) => i.role).lastIndexOf('user');
  return { user: textOf(input[last]?.content), after: input.slice(last + 1) };
}

/** The output the model was given for `callId` in the request, as a string. */
export function outputFor(request: RecordedRequest, callId: string): string | undefined {
  const item = (request.body.input as Item[]).find((i) => i.type === 'function_call_output' && i.call_id === callId);
  if (!item) return undefined;
  return typeof item.output === 'string' ? item.output : JSON.stringify(item.output);
}
