import { describe, expect, it } from 'vitest';
import {
  CancellationToken,
  NewMessageInterrupt,
  ShutdownInterrupt,
  Timeout,
  UserInterrupt,
  asCancelReason,
} from '../../src/chat/cancellation.js';

describe('cancellation token', () => {
  it('keeps the first reason when cancelled twice', () => {
    const token = new CancellationToken();
    expect(token.cancel(new UserInterrupt())).toBe(true);
    expect(token.cancel(new Timeout())).toBe(false);
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

  it('distinguishes a user stop from a timeout by class and finish reason', () => {
    expect(new UserInterrupt().finishReason).toBe('interrupted');
    expect(new ShutdownInterrupt().finishReason).toBe('interrupted');
    expect(new Timeout('slow', 5).finishReason).toBe('error');
    expect(new Timeout('slow', 5).afterMs).toBe(5);
    expect(new UserInterrupt()).not.toBeInstanceOf(Timeout);
  });

  it('a scope cancels with the outside reason and stops listening once disposed', () => {
    const token = new CancellationToken();
    const outside = new AbortController();
    const scope = token.scope(outside.signal, (r) => asCancelReason(r));
    outside.abort(new ShutdownInterrupt());
    expect(token.reason).toBeInstanceOf(ShutdownInterrupt);
    scope.dispose();

    const second = new CancellationToken();
    const other = new AbortController();
    second.scope(other.signal, () => new Timeout()).dispose();
    other.abort();
    expect(second.cancelled).toBe(false);
  });

  it('a scope on an already aborted signal cancels at once', () => {
    const token = new CancellationToken();
    token.scope(AbortSignal.abort('x'), (r) => asCancelReason(r, () => new Timeout(String(r))));
    expect(token.reason).toBeInstanceOf(Timeout);
    expect(token.reason?.message).toBe('x');
  });

  it('reset gives a fresh signal and forgets the reason', () => {
    const token = new CancellationToken();
    const first = token.signal;
    token.cancel(new UserInterrupt());
    expect(() => token.throwIfCancelled()).toThrow(UserInterrupt);
    token.reset();
    expect(token.cancelled).toBe(false);
    expect(token.signal).not.toBe(first);
    expect(token.signal.aborted).toBe(false);
    expect(() => token.throwIfCancelled()).not.toThrow();
  });
});
