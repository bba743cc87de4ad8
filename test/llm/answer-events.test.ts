/**
 * A streamed answer between the transport and the Runner (`AnswerEvents`): its text reaches the
 * turn's tap the moment its network chunk is read, the other events wait for the Runner in order,
 * a Runner that falls behind holds the body back, and a failure comes after what was read before it.
 */
import type { ModelRequest, StreamEvent } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { AnswerEvents } from '../../src/llm/adapters/answer-events.js';
import { ChatStreamTranslator } from '../../src/llm/adapters/chat-completions-stream.js';
import type { SseMessage } from '../../src/llm/adapters/sse-transport.js';

const context = { model: 'm', request: {} as ModelRequest, requestId: undefined };
const sse = (data: unknown): SseMessage => ({ data: typeof data === 'string' ? data : JSON.stringify(data), event: undefined, id: undefined });
const text = (content: string) => sse({ id: 'c1', choices: [{ index: 0, delta: { content } }] });
const args = (piece: string) => sse({ id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, ...(piece === '{' ? { id: 'call_1', function: { name: 'f', arguments: piece } } : { function: { arguments: piece } }) }] } }] });

/** A reading that records whether the answer's body is held back. */
function reading() {
  const log: string[] = [];
  return { log, pause: () => void log.push('pause'), resume: () => void log.push('resume'), stop: () => void log.push('stop') };
}

/** What the Runner takes, as event types, and the error that ended it. */
async function take(runner: AsyncIterable<StreamEvent>): Promise<{ types: string[]; error?: string }> {
  const types: string[] = [];
  try {
    for await (const e of runner) types.push(e.type);
  } catch (err) {
    return { types, error: (err as Error).message };
  }
  return { types };
}

function answer() {
  const tapped: string[] = [];
  const sent: string[] = [];
  const events = new AnswerEvents(new ChatStreamTranslator(context), { text: (d) => void tapped.push(d), sent: (e) => void sent.push(e.type) });
  return { events, tapped, sent };
}

describe('a streamed answer on its way to the Runner', () => {
  it('gives its text to the tap as each chunk is read, and only the other events to the Runner', async () => {
    const { events, tapped, sent } = answer();
    const runner = events.events(reading());
    events.batch([text('Hel'), text('lo')]);
    events.batch([text(' there')]);
    // Nothing has been taken by the Runner yet: the text went on regardless.
    expect(tapped).toEqual(['Hello', ' there']);
    events.batch([sse('[DONE]')]);
    expect(await take(runner)).toEqual({ types: ['response_started', 'response_done'] });
    expect(sent).toEqual(['response_started', 'response_done']);
  });

  it('holds the body back while the Runner is behind, and lets it go on once the Runner catches up', async () => {
    const { events } = answer();
    const read = reading();
    const runner = events.events(read);
    const pieces = ['{', ...Array.from({ length: 400 }, (_, i) => `"k${i}":1,`), '"end":1}'];
    for (const piece of pieces) events.batch([args(piece)]);
    expect(read.log).toEqual(['pause']);
    events.batch([sse('[DONE]')]);
    const taken: StreamEvent[] = [];
    for await (const e of runner) taken.push(e);
    expect(read.log).toEqual(['pause', 'resume']);
    // Every piece, in order: the started event, one raw event per chunk, the done event.
    expect(taken).toHaveLength(pieces.length + 2);
    const done = taken.at(-1) as Extract<StreamEvent, { type: 'response_done' }>;
    const call = done.response.output.find((item) => item.type === 'function_call');
    expect(call && 'arguments' in call ? call.arguments : undefined).toBe(pieces.join(''));
  });

  it('ends with a failure after the events and the text read before it', async () => {
    const { events, tapped } = answer();
    const runner = events.events(reading());
    events.batch([text('Part'), text('ial'), sse({ error: { message: 'overloaded' } })]);
    events.batch([text('never said')]);
    expect(await take(runner)).toEqual({ types: ['response_started'], error: 'overloaded' });
    expect(tapped).toEqual(['Partial']);
  });

  it('ends when its body ends without the last event, with what it read', async () => {
    const { events, tapped } = answer();
    const runner = events.events(reading());
    events.batch([text('Cut')]);
    events.end();
    expect(await take(runner)).toEqual({ types: ['response_started', 'response_done'] });
    expect(tapped).toEqual(['Cut']);
  });

  it('ends with the error of a tap that throws, and reads no more', async () => {
    const events = new AnswerEvents(new ChatStreamTranslator(context), {
      text: () => {
        throw new Error('the socket is gone');
      },
      sent: () => undefined,
    });
    const runner = events.events(reading());
    expect(() => events.batch([text('Hello')])).not.toThrow();
    events.batch([text(' again')]);
    expect(await take(runner)).toEqual({ types: ['response_started'], error: 'the socket is gone' });
  });
});
