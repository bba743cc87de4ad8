import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { TurnEmitter } from '../../src/chat/turn-emitter.js';

describe('turn emitter', () => {
  let sent: ServerEvent[];
  let now: number;
  let emitter: TurnEmitter;
  beforeEach(() => {
    vi.useFakeTimers();
    sent = [];
    now = 1_000;
    emitter = new TurnEmitter({ publish: (_uuid, e) => sent.push(e) }, 'uuid-1', 'chat_abc', 'turn_1', 20, () => now);
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('sends the first delta at once and merges the next ones into one frame per 20 ms', () => {
    emitter.emit({ type: 'assistant_start' });
    emitter.emit({ type: 'assistant_delta', content: 'a' });
    expect(sent.map((e) => e.type)).toEqual(['assistant_start', 'assistant_delta']);
    now += 5;
    emitter.emit({ type: 'assistant_delta', content: 'b' });
    emitter.emit({ type: 'assistant_delta', content: 'c' });
    expect(sent).toHaveLength(2);
    now += 15;
    vi.advanceTimersByTime(15);
    expect(sent).toHaveLength(3);
    expect(sent[2]).toMatchObject({ type: 'assistant_delta', content: 'bc', seq: 3, turn_id: 'turn_1', session_id: 'chat_abc' });
  });

  it('flushes buffered text before any other event, so order is kept', () => {
    emitter.emit({ type: 'assistant_delta', content: 'x' });
    emitter.emit({ type: 'assistant_delta', content: 'y' });
    emitter.emit({ type: 'function_detected', tool_call_id: 'c1', tool_name: 't' });
    emitter.emit({ type: 'function_call_arguments_delta', tool_call_id: 'c1', delta: '{"a"' });
    emitter.emit({ type: 'function_call_arguments_delta', tool_call_id: 'c2', delta: '{}' });
    emitter.emit({ type: 'assistant_end', finish_reason: 'stop' });
    expect(sent.map((e) => [e.type, e.seq])).toEqual([
      ['assistant_delta', 1],
      ['assistant_delta', 2],
      ['function_detected', 3],
      ['function_call_arguments_delta', 4],
      ['function_call_arguments_delta', 5],
      ['assistant_end', 6],
    ]);
    expect(sent.filter((e) => e.type === 'function_call_arguments_delta').map((e) => (e as { tool_call_id: string }).tool_call_id)).toEqual(['c1', 'c2']);
  });

  it('sends nothing after assistant_end', () => {
    emitter.emit({ type: 'assistant_end', finish_reason: 'interrupted' });
    emitter.emit({ type: 'assistant_delta', content: 'late' });
    vi.advanceTimersByTime(100);
    expect(sent.map((e) => e.type)).toEqual(['assistant_end']);
  });
  it('sends a delta at once when exactly 20 ms have passed since the last delta frame', () => {
    emitter.emit({ type: 'assistant_delta', content: 'a' });
    now += 20;
    emitter.emit({ type: 'assistant_delta', content: 'b' });
    expect(sent.map((e) => (e as { content?: string }).content)).toEqual(['a', 'b']);
  });

  it('merges reasoning and tool-argument deltas too, but never across streams', () => {
    emitter.emit({ type: 'reasoning_delta', content: 'r1' });
    now += 1;
    emitter.emit({ type: 'reasoning_delta', content: 'r2' });
    emitter.emit({ type: 'reasoning_delta', content: 'r3' });
    emitter.emit({ type: 'assistant_delta', content: 't1' });
    emitter.emit({ type: 'function_call_arguments_delta', tool_call_id: 'c1', delta: '{"a":' });
    emitter.emit({ type: 'function_call_arguments_delta', tool_call_id: 'c1', delta: '1}' });
    emitter.emit({ type: 'function_call_arguments_delta', tool_call_id: 'c2', delta: '{}' });
    // Each switch of stream sent the one before; the last waits its 20 ms.
    expect(sent).toHaveLength(4);
    now += 20;
    vi.advanceTimersByTime(20);
    const frames = sent.map((e) => [e.type, (e as { content?: string }).content ?? (e as { delta?: string }).delta, (e as { tool_call_id?: string }).tool_call_id]);
    expect(frames).toEqual([
      ['reasoning_delta', 'r1', undefined],
      ['reasoning_delta', 'r2r3', undefined],
      ['assistant_delta', 't1', undefined],
      ['function_call_arguments_delta', '{"a":1}', 'c1'],
      ['function_call_arguments_delta', '{}', 'c2'],
    ]);
  });

  it('a flush by another event cancels the pending timer, so the next delta waits its full 20 ms', () => {
    emitter.emit({ type: 'assistant_delta', content: 'a' });
    now += 5;
    emitter.emit({ type: 'assistant_delta', content: 'b' });
    emitter.emit({ type: 'function_detected', tool_call_id: 'c1', tool_name: 't' });
    now += 1;
    emitter.emit({ type: 'assistant_delta', content: 'c' });
    expect(sent.map((e) => e.type)).toEqual(['assistant_delta', 'assistant_delta', 'function_detected']);
    // b's timer would have fired 15 ms after b; c may only go 20 ms after b's frame.
    now += 14;
    vi.advanceTimersByTime(14);
    expect(sent).toHaveLength(3);
    now += 5;
    vi.advanceTimersByTime(5);
    expect(sent.at(-1)).toMatchObject({ type: 'assistant_delta', content: 'c', seq: 4 });
  });
  it('uses the monotonic clock by default', () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const frames: ServerEvent[] = [];
    const real = new TurnEmitter({ publish: (_uuid, e) => frames.push(e) }, 'uuid-1', 'chat_abc', 'turn_1');
    real.emit({ type: 'assistant_delta', content: 'a' });
    vi.advanceTimersByTime(5);
    real.emit({ type: 'assistant_delta', content: 'b' });
    vi.advanceTimersByTime(14);
    expect(frames).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(frames.map((e) => (e as { content?: string }).content)).toEqual(['a', 'b']);
  });
});
