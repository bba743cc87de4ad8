import { describe, expect, it } from 'vitest';
import { CancellationToken, NewMessageInterrupt, ShutdownInterrupt, UserInterrupt } from '../../src/chat/cancellation.js';

describe('cancellation token', () => {
  it('keeps the first reason when cancelled twice', () => {
    const token = new CancellationToken();
    expect(token.cancel(new UserInterrupt())).toBe(true);
    expect(token.cancel(new ShutdownInterrupt())).toBe(false);
    expect(token.reason).toBeInstanceOf(UserInterrupt);
    expect(token.signal.aborted).toBe(true);
    expect(token.signal.reason).toBeInstanceOf(UserInterrupt);
  });

  it('runs callbacks once, and at once when registered after the cancel', () => {
    const token = new CancellationToken();
    const seen: string[] = [];
    token.onCancel((r) => seen.push(`a:${r.name}`));
    const off = token.onCancel(() => seen.push('removed'));
    off();
    token.cancel(new NewMessageInterrupt());
    token.cancel(new UserInterrupt());
    token.onCancel((r) => seen.push(`late:${r.name}`));
    expect(seen).toEqual(['a:NewMessageInterrupt', 'late:NewMessageInterrupt']);
  });

  it('a throwing callback does not stop the others', () => {
    const token = new CancellationToken();
    let ran = false;
    token.onCancel(() => {
      throw new Error('boom');
    });
    token.onCancel(() => {
      ran = true;
    });
    token.cancel(new UserInterrupt());
    expect(ran).toBe(true);
  });

  it('tells the reasons apart by class; every one ends a turn as interrupted', () => {
    expect([new UserInterrupt(), new NewMessageInterrupt(), new ShutdownInterrupt()].map((r) => [r.name, r.finishReason])).toEqual([
      ['UserInterrupt', 'interrupted'],
      ['NewMessageInterrupt', 'interrupted'],
      ['ShutdownInterrupt', 'interrupted'],
    ]);
    expect(new UserInterrupt()).not.toBeInstanceOf(ShutdownInterrupt);
  });
});
