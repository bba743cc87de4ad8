/**
 * What `read_file` shows the model: text only, lines selected by `head`/`tail`, and at most
 * 10 000 tokens, with a note saying how to read the rest. Tokens are counted with gpt-tokenizer
 * (o200k); special-token text such as `<|endoftext|>` in a file is counted as plain text.
 */
import { loadEncoding } from '../../context/encodings.js';
import { AppError } from '../../errors/app-error.js';

export const MAX_READ_TOKENS = 10_000;
/** Files above this are not read into memory at all; the model is told to use Python instead. */
export const MAX_READ_BYTES = 20 * 1024 * 1024;
/** A token is rarely longer than this many characters, so a prefix this long holds the budget. */
const CHARS_PER_TOKEN_BOUND = 16;

const ENCODE_OPTIONS = { disallowedSpecial: new Set<string>() };

export function countTokens(text: string): number {
  return loadEncoding('o200k_base').encode(text, ENCODE_OPTIONS).length;
}

/** Decodes UTF-8 text; refuses binary content (NUL bytes or invalid UTF-8). */
export function decodeText(bytes: Uint8Array, shownPath: string): string {
  const sniff = bytes.subarray(0, 8192);
  if (sniff.includes(0)) {
    throw new AppError('FILE_5004', `"${shownPath}" is a binary file; it can be downloaded, or read with execute_python_code.`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new AppError('FILE_5004', `"${shownPath}" is not UTF-8 text; read it with execute_python_code.`);
  }
}

export interface ReadSelection {
  content: string;
  total_lines: number;
  /** 1-based inclusive line ranges shown. */
  shown: Array<[number, number]>;
  truncated: boolean;
  note?: string;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 1 && lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** Keeps whole lines from the start until the token budget is spent. */
function cutToBudget(text: string, budget: number): { text: string; cut: boolean } {
  if (Buffer.byteLength(text) <= budget) return { text, cut: false };
  const prefix = text.slice(0, budget * CHARS_PER_TOKEN_BOUND);
  const { encode, decode } = loadEncoding('o200k_base');
  const tokens = encode(prefix, ENCODE_OPTIONS);
  if (tokens.length <= budget) return { text: prefix, cut: prefix.length < text.length };
  let kept = decode(tokens.slice(0, budget));
  const lastNewline = kept.lastIndexOf('\n');
  if (lastNewline > 0) kept = kept.slice(0, lastNewline + 1);
  return { text: kept, cut: true };
}

/**
 * Selects what to show: the whole file, its first `head` lines, its last `tail` lines, or both
 * (with a marker between), then cuts at `MAX_READ_TOKENS` whole lines with a note.
 */
export function selectText(text: string, options: { head?: number | null; tail?: number | null; budget?: number }): ReadSelection {
  const budget = options.budget ?? MAX_READ_TOKENS;
  const lines = splitLines(text);
  const total = lines.length;
  const head = options.head ?? undefined;
  const tail = options.tail ?? undefined;
  let ranges: Array<[number, number]>;
  if (head === undefined && tail === undefined) ranges = [[1, total]];
  else if (head !== undefined && tail !== undefined && head + tail < total) ranges = [[1, head], [total - tail + 1, total]];
  else if (head !== undefined && tail === undefined) ranges = [[1, Math.min(head, total)]];
  else if (tail !== undefined && head === undefined) ranges = [[Math.max(1, total - tail + 1), total]];
  else ranges = [[1, total]];

  const pieces = ranges.map(([from, to]) => lines.slice(from - 1, to).join('\n'));
  const whole = head === undefined && tail === undefined;
  const joined = whole ? text : pieces.length === 2 ? `${pieces[0]}\n[... lines ${ranges[0]![1] + 1}-${ranges[1]![0] - 1} not shown ...]\n${pieces[1]}` : (pieces[0] ?? '');
  const { text: kept, cut } = cutToBudget(joined, budget);
  if (!cut) return { content: joined, total_lines: total, shown: ranges, truncated: false };

  const keptLines = splitLines(kept).length;
  const firstFrom = ranges[0]![0];
  const lastShown = firstFrom + keptLines - 1;
  const shown: Array<[number, number]> = [[firstFrom, Math.max(firstFrom, lastShown)]];
  const note =
    `The file has ${total} lines and more than ${budget} tokens; showing lines ${firstFrom}-${lastShown}. ` +
    `Read other parts with head (first N lines) or tail (last N lines), e.g. tail=${Math.min(200, total)}, ` +
    'or process the file with execute_python_code.';
  return { content: kept, total_lines: total, shown, truncated: true, note };
}
