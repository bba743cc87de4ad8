/**
 * Session titles: a 3–5 word title from the first exchange, asked of the
 * session's model, cleaned of quotes, labels and trailing punctuation, capped at 200 characters,
 * with the first words of the user's text as the fallback when the model fails.
 */
import type { CompleteFn } from './summarizer.js';

export const TITLE_MAX_CHARS = 200;
/** How long the title request may take before the fallback is used. */
export const TITLE_TIMEOUT_MS = 30_000;
/** Words of the user's text used when the model gives no title. */
const FALLBACK_WORDS = 5;
/** Only the beginning of the exchange is needed to name it. */
const TITLE_INPUT_CHARS = 2_000;
export const DEFAULT_TITLE = 'New chat';

export const TITLE_INSTRUCTIONS = [
  'Write a short title for the conversation below: 3 to 5 words that name its topic.',
  'Use the language of the user. No quotes, no trailing punctuation, no emoji, no prefix like "Title:".',
  'Reply with the title only.',
].join('\n');

const WRAPPERS = /^["'`“”‘’«»*_#\s]+|["'`“”‘’«»*_\s]+$/g;

function capChars(text: string): string {
  if (text.length <= TITLE_MAX_CHARS) return text;
  const cut = text.slice(0, TITLE_MAX_CHARS);
  // Cut at a word boundary when there is one in the last part, so no half word is left.
  const space = cut.lastIndexOf(' ');
  return (space > TITLE_MAX_CHARS * 0.6 ? cut.slice(0, space) : cut).trim();
}

/** Turns a model's answer into a title: first non-empty line, no label, quotes or end punctuation. Empty when nothing is left. */
export function cleanTitle(answer: string): string {
  const line = answer
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l.replace(WRAPPERS, '').length > 0);
  if (!line) return '';
  let title = line.replace(WRAPPERS, '').replace(/^title\s*:\s*/i, '');
  title = title.replace(WRAPPERS, '');
  title = title.replace(/[\s.!?,;:…。！？、]+$/u, '').replace(WRAPPERS, '');
  return capChars(title.replace(/\s+/g, ' ').trim());
}

/** The first words of the user's text, as a title of last resort. */
export function fallbackTitle(firstUserText: string): string {
  const words = firstUserText.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean).slice(0, FALLBACK_WORDS);
  const title = cleanTitle(words.join(' '));
  return title.length > 0 ? title : DEFAULT_TITLE;
}

/**
 * A title for a session from its first exchange.
 *
 * Never fails because of the model: an error, a timeout ({@link TITLE_TIMEOUT_MS}) or an empty
 * answer gives {@link fallbackTitle}.
 *
 * @throws the abort reason when `signal` aborts (the session went away; nothing should be saved).
 */
export async function generateTitle(
  firstUserText: string,
  assistantText: string,
  complete: CompleteFn,
  signal: AbortSignal,
): Promise<string> {
  signal.throwIfAborted();
  const input = `User: ${firstUserText.slice(0, TITLE_INPUT_CHARS)}\n\nAssistant: ${assistantText.slice(0, TITLE_INPUT_CHARS)}`;
  try {
    const answer = await complete(TITLE_INSTRUCTIONS, input, AbortSignal.any([signal, AbortSignal.timeout(TITLE_TIMEOUT_MS)]));
    const title = cleanTitle(typeof answer === 'string' ? answer : '');
    if (title.length > 0) return title;
  } catch {
    // Any model failure falls back to the user's words, unless the caller gave up on the title.
    if (signal.aborted) throw signal.reason;
  }
  return fallbackTitle(firstUserText);
}
