/**
 * The pre-flight context check: before a model call, decide whether the request fits
 * as is, needs a summarization first, or can never fit (→ `CTX_4101`, no model request).
 */
import { triggerTokens } from './model-windows.js';

export type BudgetVerdict = 'ok' | 'summarize' | 'too_large';

export interface BudgetInput {
  /** `sessions.total_tokens`: the context the next call would already carry. */
  currentTokens: number;
  /** Estimated tokens of the items this turn adds (see `countItems`). */
  newTokens: number;
  /** The model's context window (`contextWindowFor`). */
  window: number;
  /** Tokens that go with every request whatever the history: system instructions, tool schemas. Default 0. */
  fixedTokens?: number;
}

/**
 * `'too_large'` when the new items plus the fixed part alone exceed the window (no summary can
 * make room for them); `'summarize'` when the projected total is over `floor(0.8 × window)`
 * (exactly at the threshold is still `'ok'`); `'ok'` otherwise.
 */
export function checkBudget({ currentTokens, newTokens, window, fixedTokens = 0 }: BudgetInput): BudgetVerdict {
  if (newTokens + fixedTokens > window) return 'too_large';
  if (currentTokens + newTokens > triggerTokens(window)) return 'summarize';
  return 'ok';
}

/** Whether a total is over the summarization threshold (the after-turn check). */
export function isOverThreshold(totalTokens: number, window: number): boolean {
  return totalTokens > triggerTokens(window);
}

/**
 * Whether the request fits the window at all. After a summarization the caller checks this: a
 * request still over the threshold but within the window goes ahead; one over the window ends
 * the turn with `CTX_4101`.
 */
export function fitsWindow({ currentTokens, newTokens, window }: BudgetInput): boolean {
  // `currentTokens` already includes the fixed part once the provider has reported usage.
  return currentTokens + newTokens <= window;
}
