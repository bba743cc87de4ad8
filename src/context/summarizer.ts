/**
 * Turns older context items into one dense prose summary with the session's own model:
 * renders the items as readable text, asks the model, and retries an empty or
 * failed answer twice with backoff before giving up with {@link SummarizationFailedError}.
 */
import { setTimeout as delay } from 'node:timers/promises';
import type { AgentInputItem } from '@openai/agents';
import { isSummaryItem, summaryText } from './summary-plan.js';

/**
 * One model completion: instructions + input in, the answer's text out. Supplied by the caller
 * (built from the session's model); it must stop when `signal` aborts.
 */
export type CompleteFn = (instructions: string, input: string, signal: AbortSignal) => Promise<string>;

/** An abortable wait; tests inject one that takes no real time. */
export type SleepFn = (ms: number, signal: AbortSignal) => Promise<void>;

export const SUMMARY_INSTRUCTIONS = [
  'You summarize the earlier part of a conversation between a user and an AI assistant that can call tools.',
  'The summary replaces those messages in the assistant\'s memory, so the conversation can go on without them.',
  'Write dense, factual prose (no preamble, no headings, no bullet lists of trivia) covering:',
  '- the user\'s goals and requests, in their own terms;',
  '- facts, names, numbers, file names and decisions that were established;',
  '- the tools that were used, with what arguments, and what they found;',
  '- the current state of the task: what is done and what remains;',
  '- errors or problems that are still open.',
  'If the input starts with an earlier summary, fold it in: keep what still matters and drop what was superseded.',
  'Write in the language the user wrote in. Reply with the summary only.',
].join('\n');

/** Retries after the first attempt (the answer is retried twice). */
export const SUMMARY_RETRIES = 2;
/** The wait before retry n is `SUMMARY_BACKOFF_MS × 2^(n-1)`: 1 s, then 2 s. */
export const SUMMARY_BACKOFF_MS = 1_000;
/** How long one summary request may take before it counts as failed. */
export const SUMMARY_ATTEMPT_TIMEOUT_MS = 120_000;
/** The rendered input is cut in the middle beyond this many characters (~25k tokens). */
export const SUMMARY_MAX_INPUT_CHARS = 100_000;
/** Per-item caps, so one huge tool output cannot crowd out the conversation. */
const MAX_MESSAGE_CHARS = 8_000;
const MAX_ARGUMENTS_CHARS = 2_000;
const MAX_OUTPUT_CHARS = 4_000;
const MAX_REASONING_CHARS = 1_000;

/** The summary could not be made: every attempt threw or answered nothing. The context is untouched. */
export class SummarizationFailedError extends Error {
  constructor(
    message: string,
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Keeps the head and the tail of a long text and says how much was left out between them. */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const omitted = text.length - max;
  const head = Math.ceil(max * 0.6);
  const tail = max - head;
  return `${text.slice(0, head)}\n… [${omitted} characters omitted] …\n${text.slice(text.length - tail)}`;
}

/** An attached image right after its label part (`[image: input/photo.png]`): the summary keeps the label only. */
function isLabelledImage(part: unknown, before: unknown): boolean {
  if ((part as { type?: unknown } | null)?.type !== 'input_image') return false;
  const label = (before as { type?: unknown; text?: unknown } | null | undefined) ?? undefined;
  return label?.type === 'input_text' && typeof label.text === 'string' && label.text.startsWith('[image: ');
}

function asText(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.filter((part, i) => !isLabelledImage(part, value[i - 1])).map(asText).filter(Boolean).join('\n');
  if (typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.text === 'string') return v.text;
    if (typeof v.refusal === 'string') return `(refused) ${v.refusal}`;
    if (typeof v.transcript === 'string') return v.transcript;
    if (typeof v.type === 'string' && /image|file|audio|screenshot/.test(v.type)) return `[${v.type}]`;
  }
  return JSON.stringify(value) ?? '';
}

/** One item as a readable paragraph for the summary request. */
export function renderItem(item: AgentInputItem): string {
  const it = item as Record<string, unknown>;
  if (isSummaryItem(item)) return `Earlier summary:\n${summaryText(item)}`;
  if (typeof it.role === 'string' && (it.type === undefined || it.type === 'message')) {
    const who = it.role === 'user' ? 'User' : it.role === 'assistant' ? 'Assistant' : 'System';
    return `${who}: ${truncateMiddle(asText(it.content), MAX_MESSAGE_CHARS)}`;
  }
  switch (it.type) {
    case 'function_call':
    case 'hosted_tool_call': {
      const args = truncateMiddle(asText(it.arguments), MAX_ARGUMENTS_CHARS);
      const out = it.output === undefined ? '' : `\nResult: ${truncateMiddle(asText(it.output), MAX_OUTPUT_CHARS)}`;
      return `Tool call ${asText(it.name)}(${args})${out}`;
    }
    case 'function_call_result':
      return `Tool result of ${asText(it.name)}: ${truncateMiddle(asText(it.output), MAX_OUTPUT_CHARS)}`;
    case 'reasoning':
      return `Assistant reasoning: ${truncateMiddle(asText(it.content), MAX_REASONING_CHARS)}`;
    case 'shell_call':
      return `Shell call: ${truncateMiddle(asText((it.action as { commands?: unknown } | undefined)?.commands), MAX_ARGUMENTS_CHARS)}`;
    case 'shell_call_output':
      return `Shell output: ${truncateMiddle(
        Array.isArray(it.output) ? it.output.map((o: { stdout?: unknown; stderr?: unknown }) => `${asText(o.stdout)}${asText(o.stderr)}`).join('\n') : asText(it.output),
        MAX_OUTPUT_CHARS,
      )}`;
    case 'compaction':
      return 'Compacted earlier context (opaque).';
    default:
      return `${asText(it.type) || 'Item'}: ${truncateMiddle(JSON.stringify(item) ?? '', MAX_OUTPUT_CHARS)}`;
  }
}

/** The whole summary input: items in order, blank-line separated, cut in the middle when too long. */
export function renderItemsForSummary(items: readonly AgentInputItem[], maxChars = SUMMARY_MAX_INPUT_CHARS): string {
  return truncateMiddle(items.map(renderItem).join('\n\n'), maxChars);
}

export interface SummarizeOptions {
  /** Aborts the whole summarization (a user interrupt); the abort reason is rethrown, never retried. */
  signal?: AbortSignal;
  /** Default: a real abortable timer. */
  sleep?: SleepFn;
  /** Default {@link SUMMARY_RETRIES}. */
  retries?: number;
  /** Default {@link SUMMARY_BACKOFF_MS}. */
  backoffMs?: number;
  /** Default {@link SUMMARY_ATTEMPT_TIMEOUT_MS}. */
  attemptTimeoutMs?: number;
  /** Default {@link SUMMARY_MAX_INPUT_CHARS}; callers with small windows pass less. */
  maxInputChars?: number;
}

const realSleep: SleepFn = (ms, signal) => delay(ms, undefined, { signal });

/**
 * Summarizes `older` with `complete`. An answer that throws, times out or is blank is retried
 * (`retries` times, backoff doubling from `backoffMs`).
 *
 * @returns the trimmed summary text.
 * @throws SummarizationFailedError after the last failed attempt.
 * @throws the abort reason of `opts.signal` when it aborts.
 */
export async function summarizeItems(
  older: readonly AgentInputItem[],
  complete: CompleteFn,
  opts: SummarizeOptions = {},
): Promise<string> {
  const outer = opts.signal ?? new AbortController().signal;
  const sleep = opts.sleep ?? realSleep;
  const retries = opts.retries ?? SUMMARY_RETRIES;
  const backoffMs = opts.backoffMs ?? SUMMARY_BACKOFF_MS;
  const input = renderItemsForSummary(older, opts.maxInputChars);
  let lastError: unknown;
  for (let attempt = 1; attempt <= retries + 1; attempt++) {
    outer.throwIfAborted();
    if (attempt > 1) await sleep(backoffMs * 2 ** (attempt - 2), outer);
    const signal = AbortSignal.any([outer, AbortSignal.timeout(opts.attemptTimeoutMs ?? SUMMARY_ATTEMPT_TIMEOUT_MS)]);
    try {
      const answer = (await complete(SUMMARY_INSTRUCTIONS, input, signal)).trim();
      if (answer.length > 0) return answer;
      lastError = new Error('the model answered with an empty summary');
    } catch (err) {
      if (outer.aborted) throw outer.reason;
      lastError = err;
    }
  }
  throw new SummarizationFailedError(`Summarization failed after ${retries + 1} attempts`, retries + 1, { cause: lastError });
}
