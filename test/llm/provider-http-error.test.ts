/**
 * The native adapters' error answers: what the provider asked for before a retry, and the error's
 * shape, which the classifier reads.
 */
import { describe, expect, it } from 'vitest';
import { ProviderHttpError, retryAfterMs } from '../../src/llm/adapters/index.js';
import { classifyProviderError } from '../../src/llm/provider-errors.js';

describe('retry-after', () => {
  it('reads retry-after-ms, then retry-after in seconds or as a date, within a minute', () => {
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': '2' }))).toBe(2000);
    const inTwentySeconds = new Date(Date.now() + 20_000).toUTCString();
    expect(retryAfterMs(new Headers({ 'retry-after': inTwentySeconds }))).toBeGreaterThan(15_000);
    expect(retryAfterMs(new Headers({ 'retry-after': '120' }))).toBeUndefined();
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });
});

describe('ProviderHttpError', () => {
  it('reads an OpenAI-style error body and keeps status, code and the wait', () => {
    const body = JSON.stringify({ error: { message: 'Slow down', type: 'rate_limit_error', code: 'rate_limit_exceeded', param: null } });
    const err = ProviderHttpError.fromBody(429, new Headers({ 'retry-after': '3', 'x-request-id': 'req_1' }), body);
    expect(err).toMatchObject({ status: 429, code: 'rate_limit_exceeded', type: 'rate_limit_error', retryAfterMs: 3000, requestId: 'req_1', message: '429 Slow down' });
    expect(classifyProviderError(err)).toMatchObject({ code: 'EXT_7003', status: 429 });
  });

  it('keeps a plain-text body as the message', () => {
    const err = ProviderHttpError.fromBody(502, new Headers(), 'Bad gateway from proxy');
    expect(err.message).toBe('502 Bad gateway from proxy');
    expect(classifyProviderError(err).message).toContain('HTTP 502');
  });
});
