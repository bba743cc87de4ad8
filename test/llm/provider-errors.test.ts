/**
 * Error classification: what a client is told when the model provider fails.
 */
import { ModelBehaviorError, ModelTimeoutError } from '@openai/agents';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { classifyProviderError, redactSecrets } from '../../src/llm/provider-errors.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

const apiError = (status: number, message: string, code?: string) =>
  OpenAI.APIError.generate(status, { error: { message, type: 'x', code: code ?? null, param: null } }, undefined, new Headers());

describe('provider error classification', () => {
  it('reports a rate limit as EXT_7003 with the provider’s words', () => {
    const err = classifyProviderError(apiError(429, 'Rate limit reached for gpt-4o-mini'));
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'EXT_7003', status: 429 });
    expect(err.message).toContain('Rate limit reached for gpt-4o-mini');
  });

  it('says so when the account is out of quota', () => {
    expect(classifyProviderError(apiError(429, 'You exceeded your current quota', 'insufficient_quota')).message).toContain('out of quota');
  });

  it('reports a real client timeout as EXT_7002', async () => {
    fake.enqueue({ steps: [{ type: 'hang' }] });
    const client = new OpenAI({ apiKey: 'k', baseURL: fake.baseUrl, maxRetries: 0, timeout: 50 });
    // The fake never answers; the client gives up after 50 ms with its own timeout error.
    const thrown = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(classifyProviderError(thrown)).toMatchObject({ code: 'EXT_7002', status: 504 });
  });

  it('reports SDK, gateway and socket timeouts as EXT_7002', () => {
    expect(classifyProviderError(new ModelTimeoutError({ timeoutMs: 1000 })).code).toBe('EXT_7002');
    expect(classifyProviderError(apiError(504, 'Gateway Timeout')).code).toBe('EXT_7002');
    const bodyTimeout = Object.assign(new Error('terminated'), { cause: Object.assign(new Error('Body Timeout Error'), { code: 'UND_ERR_BODY_TIMEOUT' }) });
    expect(classifyProviderError(bodyTimeout).code).toBe('EXT_7002');
  });

  it('reports a context overflow as CTX_4101', () => {
    const err = apiError(400, "This model's maximum context length is 128000 tokens.", 'context_length_exceeded');
    expect(classifyProviderError(err)).toMatchObject({ code: 'CTX_4101', status: 413 });
  });

  it('reports other provider answers, unreachable servers and odd output as EXT_7010', () => {
    expect(classifyProviderError(apiError(401, 'Unauthorized'))).toMatchObject({ code: 'EXT_7010', status: 502 });
    const refused = new OpenAI.APIConnectionError({ cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(classifyProviderError(refused).message).toContain('Could not reach the model provider');
    expect(classifyProviderError(new ModelBehaviorError('Invalid JSON in tool call')).message).toContain('could not use');
    expect(classifyProviderError('weird').code).toBe('EXT_7010');
  });

  it('passes an AppError through unchanged', () => {
    const original = new AppError('CTX_4101', 'too big');
    expect(classifyProviderError(original)).toBe(original);
  });

  it('never repeats a credential in its message', () => {
    const err = apiError(401, 'Incorrect API key provided: sk-proj-abcdEFGH1234. Header was Bearer abc.def.ghi, api-key: azsecret9');
    const message = classifyProviderError(err, { secrets: ['azsecret9', undefined] }).message;
    expect(message).not.toMatch(/abcdEFGH1234|abc\.def\.ghi|azsecret9/);
    expect(message).toContain('Incorrect API key provided');
  });

  it('redacts configured secrets anywhere and bounds the length', () => {
    expect(redactSecrets('token=hunter22&x=1 mysecretvalue', ['mysecretvalue'])).toBe('token=[redacted]&x=1 [redacted]');
    expect(redactSecrets('x'.repeat(1000)).length).toBeLessThanOrEqual(301);
  });
});
