import { describe, expect, it } from 'vitest';
import { contextWindowFor, knownContextWindow, triggerTokens, UNKNOWN_MODEL_WINDOW } from '../../src/context/model-windows.js';

describe('model context windows', () => {
  it.each([
    // exact names
    ['gpt-5', 272_000],
    ['gpt-5-mini', 272_000],
    ['gpt-5-nano', 272_000],
    ['gpt-5.1', 272_000],
    ['gpt-5.2', 272_000],
    ['gpt-5-codex', 272_000],
    ['gpt-5-pro', 272_000],
    ['gpt-4.1', 128_000],
    ['gpt-4.1-mini', 128_000],
    ['gpt-4o', 128_000],
    ['gpt-4o-mini', 128_000],
    ['gpt-4-turbo', 128_000],
    ['o1', 128_000],
    ['o3', 128_000],
    ['o3-mini', 128_000],
    ['o4-mini', 128_000],
    ['gpt-4', 8_192],
    ['gpt-3.5-turbo', 16_385],
    ['gpt-35-turbo', 16_385],
    ['offline', 32_000],
    // the longest known name contained in the model name
    ['prod-gpt-4o-eu', 128_000],
    ['gpt-4o-mini-2024-07-18', 128_000],
    ['gpt-4-0613', 8_192],
    ['gpt-4-turbo-2024-04-09', 128_000],
    ['my-gpt-35-turbo-16k', 16_385],
    ['gpt-5-mini-2025-08-07', 272_000],
    ['azure-east-gpt-5.1-chat', 272_000],
    ['PROD-GPT-4o-EU', 128_000],
    // unknown
    ['llama3.1:8b', UNKNOWN_MODEL_WINDOW],
    ['qwen2.5-coder', UNKNOWN_MODEL_WINDOW],
    ['', UNKNOWN_MODEL_WINDOW],
  ])('%s has a window of %i tokens', (model, window) => {
    expect(contextWindowFor(model, {})).toBe(window);
  });

  it('prefers the longest known name inside a deployment name over a shorter one it also contains', () => {
    // Both contain "gpt-4" (8 192); the longer gpt-4o / gpt-4-turbo must win.
    expect(contextWindowFor('eastus-gpt-4o-prod', {})).toBe(128_000);
    expect(contextWindowFor('eastus-gpt-4-turbo-prod', {})).toBe(128_000);
    expect(contextWindowFor('eastus-gpt-4-prod', {})).toBe(8_192);
  });

  it('looks a name up in the built-in table whatever its case and surrounding spaces, and knows nothing of others', () => {
    expect(knownContextWindow('  GPT-4o  ')).toBe(128_000);
    expect(knownContextWindow('Team-GPT-4-Turbo-Prod')).toBe(128_000);
    expect(knownContextWindow('llama3.1:8b')).toBeUndefined();
  });

  it.each([
    ['gpt-4o', { 'gpt-4o': 64_000 }, 64_000],
    ['prod-gpt-4o-eu', { 'prod-gpt-4o-eu': 50_000 }, 50_000],
    ['llama3.1:8b', { 'llama3.1:8b': 131_072 }, 131_072],
    ['llama3.1:8b', { 'llama3.1': 131_072 }, UNKNOWN_MODEL_WINDOW],
    ['gpt-4', { 'gpt-4o': 1_000 }, 8_192],
  ])('an override for %s applies only to that exact name (%o → %i)', (model, overrides, window) => {
    expect(contextWindowFor(model, overrides)).toBe(window);
  });

  it('warns once per unknown model, however often it is asked', () => {
    const warned: string[] = [];
    const warn = (model: string) => void warned.push(model);
    for (let i = 0; i < 3; i++) {
      contextWindowFor('mystery-model', {}, warn);
      contextWindowFor('another-mystery', {}, warn);
      contextWindowFor('gpt-4o', {}, warn);
      contextWindowFor('overridden-mystery', { 'overridden-mystery': 4_096 }, warn);
    }
    expect(warned).toEqual(['mystery-model', 'another-mystery']);
  });

  it.each([
    [128_000, 102_400],
    [8_192, 6_553],
    [16_385, 13_108],
    [15_000, 12_000],
    [32_000, 25_600],
    [272_000, 217_600],
  ])('the summarization trigger of a %i-token window is %i', (window, trigger) => {
    expect(triggerTokens(window)).toBe(trigger);
  });
});
