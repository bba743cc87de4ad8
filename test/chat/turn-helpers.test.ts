import { APIConnectionTimeoutError, APIError } from 'openai';
import { describe, expect, it } from 'vitest';
import { Timeout } from '../../src/chat/cancellation.js';
import { parseArguments, toolOutputText, toolSucceeded } from '../../src/chat/stream-mapper.js';
import { defaultClassifyError, isRecoverable } from '../../src/chat/turn-errors.js';
import { AppError } from '../../src/errors/app-error.js';

const apiError = (status: number, code?: string) => new APIError(status, { code }, 'upstream said something secret', new Headers());

describe('turn failures become the wire errors of SPEC §6', () => {
  it('maps rate limits, timeouts, oversize contexts and other provider failures to their codes', () => {
    expect(defaultClassifyError(apiError(429)).code).toBe('EXT_7003');
    expect(defaultClassifyError(apiError(504)).code).toBe('EXT_7002');
    expect(defaultClassifyError(new APIConnectionTimeoutError()).code).toBe('EXT_7002');
    expect(defaultClassifyError(new Timeout('slow')).code).toBe('EXT_7002');
    expect(defaultClassifyError(apiError(400, 'context_length_exceeded')).code).toBe('CTX_4101');
    expect(defaultClassifyError(apiError(500)).code).toBe('EXT_7010');
    expect(defaultClassifyError(new Error('socket hang up')).code).toBe('EXT_7010');
    expect(defaultClassifyError({ status: 429 }).code).toBe('EXT_7003');
  });

  it('never carries the upstream text, and keeps an AppError as it is', () => {
    expect(defaultClassifyError(apiError(500)).message).not.toContain('secret');
    const own = new AppError('CTX_4101', 'Too big.');
    expect(defaultClassifyError(own)).toBe(own);
    expect(isRecoverable(own)).toBe(false);
    expect(isRecoverable(new AppError('EXT_7010'))).toBe(true);
  });
});

describe('tool call details', () => {
  it('parses arguments into an object, keeping broken or non-object JSON visible', () => {
    expect(parseArguments('{"a":1}')).toEqual({ a: 1 });
    expect(parseArguments('  ')).toEqual({});
    expect(parseArguments('{"a":')).toEqual({ _raw: '{"a":' });
    expect(parseArguments('[1]')).toEqual({ value: [1] });
  });

  it('turns structured tool output into the text the card shows', () => {
    expect(toolOutputText('plain')).toBe('plain');
    expect(toolOutputText({ type: 'text', text: 'from text' })).toBe('from text');
    expect(toolOutputText({ type: 'image', url: 'x' })).toBe('{"type":"image","url":"x"}');
  });

  it('counts SDK tool errors and JSON failures as unsuccessful', () => {
    expect(toolSucceeded('An error occurred while running the tool. Please try again.')).toBe(false);
    expect(toolSucceeded('{"success":false,"stderr":"x"}')).toBe(false);
    expect(toolSucceeded('{"error":"File not found"}')).toBe(false);
    expect(toolSucceeded('{"success":true,"error":null}')).toBe(true);
    expect(toolSucceeded('{not json')).toBe(true);
    expect(toolSucceeded('fine')).toBe(true);
  });
});
