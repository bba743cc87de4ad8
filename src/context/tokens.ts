/**
 * Token counting for the model context: which BPE encoding a model uses, and what an
 * SDK input item costs — its text's tokens plus a fixed structural overhead.
 *
 * Counting is synchronous and proportional to the text given, so the chat turn can count only
 * the items a turn adds instead of re-counting the whole history.
 */
import type { AgentInputItem } from '@openai/agents';
import { type EncodingName, loadEncoding } from './encodings.js';

export type { EncodingName } from './encodings.js';

/** What each context item costs on top of its text: role markers, ids, separators. */
export const ITEM_OVERHEAD_TOKENS = 10;

/**
 * What a non-text part (an image, a file, audio without a transcript) costs. Its bytes never
 * enter the context as text, so counting a base64 payload would be absurd; this flat
 * figure is roughly one low-detail image.
 */
export const NON_TEXT_PART_TOKENS = 85;

/**
 * An empty `disallowedSpecial` set turns special-token detection off: `<|endoftext|>` typed by a
 * user is ordinary text to us and is never thrown on (gpt-tokenizer throws by default).
 */
const PLAIN_TEXT = { disallowedSpecial: new Set<string>() };

/** gpt-4 (not 4o / 4.1 / 4.5), gpt-4-turbo and gpt-3.5 use cl100k; also inside Azure deployment names. */
const CL100K_MODEL = /gpt-?4(?![o.])|gpt-?3\.?5/;

/** The encoding of `model`: `cl100k_base` for gpt-4, gpt-4-turbo and gpt-3.5, else `o200k_base`. */
export function encodingFor(model: string): EncodingName {
  return CL100K_MODEL.test(model.toLowerCase()) ? 'cl100k_base' : 'o200k_base';
}

/** Tokens in `text` for `model`'s encoding; special-token text counts as plain text. */
export function countText(model: string, text: string): number {
  if (text.length === 0) return 0;
  return loadEncoding(encodingFor(model)).countTokens(text, PLAIN_TEXT);
}

/** A piece of an item: text to tokenize, or a non-text part with a flat cost. */
type Piece = string | { flat: number };

const NON_TEXT: Piece = { flat: NON_TEXT_PART_TOKENS };

function stringify(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  return JSON.stringify(value) ?? '';
}

/** The text of one content part of a message, reasoning item or tool output. */
function partPieces(part: unknown): Piece[] {
  if (typeof part === 'string') return [part];
  if (part === null || typeof part !== 'object') return [];
  const p = part as Record<string, unknown>;
  switch (p.type) {
    case 'input_text':
    case 'output_text':
    case 'reasoning_text':
    case 'text':
      return [stringify(p.text)];
    case 'refusal':
      return [stringify(p.refusal)];
    case 'audio':
      return typeof p.transcript === 'string' ? [p.transcript] : [NON_TEXT];
    case 'input_image':
    case 'image':
    case 'input_file':
    case 'file':
    case 'computer_screenshot':
      return [NON_TEXT];
    default:
      return [stringify(part)];
  }
}

function contentPieces(content: unknown): Piece[] {
  if (Array.isArray(content)) return content.flatMap(partPieces);
  return partPieces(content);
}

/**
 * The countable pieces of an item. Tool calls count their name and arguments, tool outputs their
 * output; anything unknown counts as its JSON so nothing is ever free.
 */
function itemPieces(item: AgentInputItem): Piece[] {
  const it = item as Record<string, unknown>;
  if ('role' in it && (it.type === undefined || it.type === 'message')) return contentPieces(it.content);
  switch (it.type) {
    case 'function_call':
      return [stringify(it.name), stringify(it.arguments)];
    case 'function_call_result':
      return [stringify(it.name), ...contentPieces(it.output)];
    case 'hosted_tool_call':
      return [stringify(it.name), stringify(it.arguments), stringify(it.output)];
    case 'reasoning':
      return [...contentPieces(it.content), ...contentPieces(it.rawContent)];
    case 'computer_call':
      return [stringify(it.action ?? it.actions)];
    case 'computer_call_result':
      return [NON_TEXT];
    case 'shell_call':
      return [stringify(it.action)];
    case 'shell_call_output':
      return Array.isArray(it.output)
        ? it.output.flatMap((o: unknown) => {
            const out = (o ?? {}) as Record<string, unknown>;
            return [stringify(out.stdout), stringify(out.stderr)];
          })
        : [stringify(it.output)];
    case 'apply_patch_call':
      return [stringify(it.operation)];
    case 'apply_patch_call_output':
      return [stringify(it.output)];
    case 'program':
      return [stringify(it.code)];
    case 'program_output':
      return [stringify(it.output)];
    case 'tool_search_call':
      return [stringify(it.arguments)];
    case 'tool_search_output':
      return [stringify(it.tools)];
    case 'compaction':
      return [stringify(it.encrypted_content)];
    default:
      return [stringify(item)];
  }
}

/** Tokens of one context item: its text's tokens + {@link ITEM_OVERHEAD_TOKENS}. */
export function countItem(model: string, item: AgentInputItem): number {
  let total = ITEM_OVERHEAD_TOKENS;
  for (const piece of itemPieces(item)) total += typeof piece === 'string' ? countText(model, piece) : piece.flat;
  return total;
}

/** Tokens of several items (the sum of {@link countItem}). */
export function countItems(model: string, items: readonly AgentInputItem[]): number {
  let total = 0;
  for (const item of items) total += countItem(model, item);
  return total;
}

/** Whether an item is a tool call or a tool output (what `accumulated_tool_tokens` counts). */
export function isToolItem(item: AgentInputItem): boolean {
  const type = (item as { type?: unknown }).type;
  return typeof type === 'string' && type !== 'message' && type !== 'reasoning' && type !== 'compaction' && type !== 'unknown';
}
