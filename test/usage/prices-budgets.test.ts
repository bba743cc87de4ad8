/**
 * MODEL_PRICES and the QUOTA_* defaults as configuration (a bad value stops startup naming the
 * variable), prices by model name, and the budget rules: overrides, the refusal and its reset time.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { effectiveBudgets, overBudget, resets, storedOverride } from '../../src/usage/budgets.js';
import type { Spent } from '../../src/usage/ledger.js';
import { pricesFor } from '../../src/usage/prices.js';

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const spent = (over: Partial<Spent> = {}): Spent => ({ today: '2026-12-06', quota: {}, dayTokens: 0, dayCost: 0, monthTokens: 0, monthCost: 0, ...over });
const none = { tokensPerDay: undefined, tokensPerMonth: undefined, costPerDay: undefined, costPerMonth: undefined };

describe('MODEL_PRICES', () => {
  it('is read as inline JSON or from a file, and is empty when unset', () => {
    expect(loadConfig({}).usage.prices).toEqual({});
    const table = { 'gpt-4o-mini': { input: 0.15, cached_input: 0.075, output: 0.6 } };
    expect(loadConfig({ MODEL_PRICES: JSON.stringify(table) }).usage.prices).toEqual(table);
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'pulp-prices-')), 'prices.json');
    writeFileSync(file, JSON.stringify(table));
    expect(loadConfig({ MODEL_PRICES: file }).usage.prices).toEqual(table);
  });

  it('stops startup with a message naming the variable and the bad part', () => {
    expect(configError({ MODEL_PRICES: '{"gpt-4o": ' }).message).toMatch(/^Invalid configuration: MODEL_PRICES is not valid JSON/);
    expect(configError({ MODEL_PRICES: '{"gpt-4o": {"input": -1, "output": 1}}' }).message).toMatch(/MODEL_PRICES has a bad entry at gpt-4o\.input/);
    expect(configError({ MODEL_PRICES: '{"gpt-4o": {"input": 1}}' }).message).toMatch(/at gpt-4o\.output/);
    expect(configError({ MODEL_PRICES: '{"gpt-4o": {"input": 1, "output": 1, "cache": 1}}' }).variable).toBe('MODEL_PRICES');
    expect(configError({ MODEL_PRICES: '/nonexistent/prices.json' }).message).toMatch(/MODEL_PRICES names a file that cannot be read \(ENOENT\)/);
  });

  it('prices a model by its exact name, then case-insensitively; cached input defaults to input and reasoning to output', () => {
    const table = { 'gpt-4o': { input: 2.5, output: 10 }, 'o4-mini': { input: 1.1, cached_input: 0.275, output: 4.4, reasoning: 5 } };
    expect(pricesFor(table, 'GPT-4o')).toEqual({ input: '2.5', cachedInput: '2.5', output: '10', reasoning: '10' });
    expect(pricesFor(table, 'o4-mini')).toEqual({ input: '1.1', cachedInput: '0.275', output: '4.4', reasoning: '5' });
    expect(pricesFor(table, 'llama3.1')).toBeUndefined();
  });
});

describe('budgets', () => {
  it('QUOTA_* are off when unset and refuse what is not a budget', () => {
    expect(loadConfig({}).usage.budgets).toEqual(none);
    expect(loadConfig({ QUOTA_TOKENS_PER_DAY: '50000', QUOTA_COST_PER_MONTH: '12.5' }).usage.budgets).toEqual({ ...none, tokensPerDay: 50_000, costPerMonth: 12.5 });
    expect(configError({ QUOTA_TOKENS_PER_DAY: '1.5' }).message).toMatch(/QUOTA_TOKENS_PER_DAY must be a whole number of tokens/);
    expect(configError({ QUOTA_COST_PER_DAY: '-1' }).variable).toBe('QUOTA_COST_PER_DAY');
  });

  it('a user’s override replaces a default key by key: a number is their budget, null is none', () => {
    const defaults = { ...none, tokensPerDay: 1_000, costPerMonth: 5 };
    expect(effectiveBudgets(defaults, {})).toEqual({ tokens_per_day: 1_000, tokens_per_month: null, cost_per_day: null, cost_per_month: 5 });
    expect(effectiveBudgets(defaults, { tokens_per_day: null, tokens_per_month: 9_000 })).toEqual({ tokens_per_day: null, tokens_per_month: 9_000, cost_per_day: null, cost_per_month: 5 });
    expect(storedOverride({ tokens_per_day: 'lots' })).toEqual({});
    expect(storedOverride(null)).toEqual({});
  });

  it('refuses once a budget is used up, saying when it resets; the monthly refusal comes first', () => {
    const budgets = { tokens_per_day: 1_000, tokens_per_month: 10_000, cost_per_day: 1, cost_per_month: null };
    expect(overBudget(budgets, spent({ dayTokens: 999, monthTokens: 999 }))).toBeUndefined();
    const daily = overBudget(budgets, spent({ dayTokens: 1_000, monthTokens: 1_000 }));
    expect(daily).toMatchObject({ code: 'QUOTA_3101', status: 429 });
    expect(daily?.message).toBe('Today’s budget is used up; it resets at 2026-12-07 00:00 UTC. (1,000 of 1,000 tokens used.)');
    expect(overBudget(budgets, spent({ dayCost: 1.2 }))?.message).toContain('($1.20 of $1.00 used.)');
    const monthly = overBudget(budgets, spent({ dayTokens: 2_000, monthTokens: 10_001 }));
    expect(monthly).toMatchObject({ code: 'QUOTA_3102' });
    expect(monthly?.message).toContain('resets at 2027-01-01 00:00 UTC');
  });

  it('resets at the next UTC midnight and the first of the next month, across a year end', () => {
    expect(resets('2026-12-31')).toEqual({ day: new Date('2027-01-01T00:00:00Z'), month: new Date('2027-01-01T00:00:00Z') });
    expect(resets('2026-02-28')).toEqual({ day: new Date('2026-03-01T00:00:00Z'), month: new Date('2026-03-01T00:00:00Z') });
  });
});
