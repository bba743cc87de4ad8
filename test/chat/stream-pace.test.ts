import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { COALESCE_MS, MAX_COALESCE_MS, StreamPace, STREAMS_AT_BASE } from '../../src/chat/stream-pace.js';
import { TurnEmitter } from '../../src/chat/turn-emitter.js';

describe('stream pace', () => {
  it('keeps the 20 ms window up to 200 streams, then grows it in proportion, up to 50 ms', () => {
    const pace = new StreamPace();
    const leave: Array<() => void> = [];
    const streams = (n: number) => {
      while (pace.live < n) leave.push(pace.enter());
      while (pace.live > n) leave.pop()!();
    };
    streams(1);
    expect(pace.windowMs()).toBe(COALESCE_MS);
    streams(STREAMS_AT_BASE);
    expect(pace.windowMs()).toBe(COALESCE_MS);
    streams(350);
    expect(pace.windowMs()).toBe(35);
    streams(500);
    expect(pace.windowMs()).toBe(MAX_COALESCE_MS);
    streams(5_000);
    expect(pace.windowMs()).toBe(MAX_COALESCE_MS);
    streams(0);
    expect(pace.windowMs()).toBe(COALESCE_MS);
  });

  it('counts a turn that leaves twice only once', () => {
    const pace = new StreamPace();
    const other = pace.enter();
    const leave = pace.enter();
    leave();
    leave();
    expect(pace.live).toBe(1);
    other();
    expect(pace.live).toBe(0);
  });
});

describe('a turn emitter on the server pace', () => {
  let now: number;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_000;
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('merges deltas for the window of the streams running now, and sends other events at once', () => {
    const pace = new StreamPace();
    const leave = Array.from({ length: 1_000 }, () => pace.enter());
    const sent: ServerEvent[] = [];
    const emitter = new TurnEmitter({ publish: (_uuid, e) => sent.push(e) }, 'uuid-1', 'chat_abc', 'turn_1', pace, () => now);
    emitter.emit({ type: 'assistant_delta', content: 'a' });
    for (const content of ['b', 'c', 'd']) {
      now += 20;
      vi.advanceTimersByTime(20);
      emitter.emit({ type: 'assistant_delta', content });
    }
    // 1 000 streams: one frame per 50 ms, so b and c went together in the second frame; d waits 50 ms after it.
    expect(sent.map((e) => (e as { content?: string }).content)).toEqual(['a', 'bc']);
    now += 40;
    vi.advanceTimersByTime(40);
    expect(sent.map((e) => (e as { content?: string }).content)).toEqual(['a', 'bc']);
    now += 10;
    vi.advanceTimersByTime(10);
    expect(sent.map((e) => (e as { content?: string }).content)).toEqual(['a', 'bc', 'd']);
    emitter.emit({ type: 'assistant_delta', content: 'e' });
    emitter.emit({ type: 'stream_interrupted' });
    // e waits for its window, but another event sends it first, in order.
    expect(sent.map((e) => e.type)).toEqual(['assistant_delta', 'assistant_delta', 'assistant_delta', 'assistant_delta', 'stream_interrupted']);
    expect(sent.at(-2)).toMatchObject({ content: 'e' });
    // Fewer streams: the next delta goes after 20 ms again.
    for (const l of leave) l();
    now += 20;
    emitter.emit({ type: 'assistant_delta', content: 'f' });
    expect(sent.at(-1)).toMatchObject({ type: 'assistant_delta', content: 'f' });
  });
});
