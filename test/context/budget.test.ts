import { describe, expect, it } from 'vitest';
import { checkBudget, fitsWindow, isOverThreshold } from '../../src/context/budget.js';
import { triggerTokens } from '../../src/context/model-windows.js';

const WINDOW = 10_000;
const THRESHOLD = triggerTokens(WINDOW); // 8 000

describe('pre-flight context budget', () => {
  it('does not summarize a request that lands exactly on the threshold', () => {
    expect(checkBudget({ currentTokens: THRESHOLD - 500, newTokens: 500, window: WINDOW })).toBe('ok');
    expect(isOverThreshold(THRESHOLD, WINDOW)).toBe(false);
  });

  it('summarizes a request one token over the threshold', () => {
    expect(checkBudget({ currentTokens: THRESHOLD - 500, newTokens: 501, window: WINDOW })).toBe('summarize');
    expect(isOverThreshold(THRESHOLD + 1, WINDOW)).toBe(true);
  });

  it('refuses new input that alone is larger than the window', () => {
    expect(checkBudget({ currentTokens: 0, newTokens: WINDOW + 1, window: WINDOW })).toBe('too_large');
    expect(checkBudget({ currentTokens: 9_000, newTokens: WINDOW + 1, window: WINDOW })).toBe('too_large');
  });

  it('counts the fixed instructions against the window when judging new input', () => {
    expect(checkBudget({ currentTokens: 0, newTokens: WINDOW - 100, window: WINDOW, fixedTokens: 100 })).toBe('summarize');
    expect(checkBudget({ currentTokens: 0, newTokens: WINDOW - 100, window: WINDOW, fixedTokens: 101 })).toBe('too_large');
  });

  it('asks for a summary when history plus new input overflows but the new input alone would fit', () => {
    expect(checkBudget({ currentTokens: 9_500, newTokens: 2_000, window: WINDOW })).toBe('summarize');
  });

  it('lets a request go ahead after a summary as long as it fits the window', () => {
    expect(fitsWindow({ currentTokens: 9_000, newTokens: 1_000, window: WINDOW })).toBe(true);
    expect(fitsWindow({ currentTokens: 9_000, newTokens: 1_001, window: WINDOW })).toBe(false);
  });
});
