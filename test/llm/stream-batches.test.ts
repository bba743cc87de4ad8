/**
 * How the native adapters' stream translators treat the server-sent events of one network chunk:
 * consecutive text pieces become one `output_text_delta` (fewer async steps when a busy server
 * finds several waiting), every other event keeps its place, and text read before a failure is
 * still delivered before the failure.
 */
import type { ModelRequest, StreamEvent } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { translateChatStream } from '../../src/llm/adapters/chat-completions-stream.js';
import { translateResponsesStream } from '../../src/llm/adapters/responses-stream.js';
import type { SseMessage } from '../../src/llm/adapters/sse-transport.js';

const context = { model: 'm', request: {} as ModelRequest, requestId: undefined };

const sse = (data: unknown, event?: string): SseMessage => ({ data: typeof data === 'string' ? data : JSON.stringify(data), event, id: undefined });

async function* batches(list: SseMessage[][]): AsyncIterable<readonly SseMessage[]> {
  for (const batch of list) yield batch;
}

/** What the translator yields, as compact strings, and the error that ended it. */
async function outcome(stream: AsyncIterable<StreamEvent>): Promise<{ events: string[]; error?: string }> {
  const events: string[] = [];
  try {
    for await (const e of stream) {
      if (e.type === 'output_text_delta') events.push(`text:${e.delta}`);
      else if (e.type === 'model') events.push('model');
      else events.push(e.type);
    }
  } catch (err) {
    return { events, error: (err as Error).message };
  }
  return { events };
}

const text = (content: string) => sse({ id: 'c1', choices: [{ index: 0, delta: { content } }] });
const toolCall = sse({ id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }] } }] });
const finish = sse({ id: 'c1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });

describe('a Chat Completions stream read in network chunks', () => {
  it('sends the text pieces of one chunk as one delta, and keeps chunks apart', async () => {
    const { events } = await outcome(translateChatStream(batches([[text('Hel'), text('lo')], [text(', '), text('world'), finish], [sse('[DONE]')]]), context));
    expect(events).toEqual(['response_started', 'text:Hello', 'text:, world', 'model', 'response_done']);
  });

  it('keeps a tool call between the text before and after it', async () => {
    const { events } = await outcome(translateChatStream(batches([[text('a'), text('b'), toolCall, text('c')], [sse('[DONE]')]]), context));
    expect(events).toEqual(['response_started', 'text:ab', 'model', 'text:c', 'response_done']);
  });

  it('delivers the text read before an error in the stream, then fails', async () => {
    const failed = await outcome(translateChatStream(batches([[text('Part'), text('ial'), sse({ error: { message: 'overloaded' } })]]), context));
    expect(failed).toEqual({ events: ['response_started', 'text:Partial'], error: 'overloaded' });
    const garbled = await outcome(translateChatStream(batches([[text('Half'), sse('{not json')]]), context));
    expect(garbled).toEqual({ events: ['response_started', 'text:Half'], error: expect.stringContaining('malformed') });
  });
});

const created = sse({ type: 'response.created', response: { id: 'r1' } });
const piece = (delta: string, item = 'msg_1') => sse({ type: 'response.output_text.delta', item_id: item, delta });

describe('a Responses stream read in network chunks', () => {
  it('joins the text pieces of one item in one chunk, not those of two items', async () => {
    const { events } = await outcome(translateResponsesStream(batches([[created, piece('Hel'), piece('lo'), piece('!', 'msg_2')], [piece('?', 'msg_2')]]), context));
    expect(events).toEqual(['response_started', 'model', 'text:Hello', 'text:!', 'text:?']);
  });

  it('delivers the text read before an error event, then fails', async () => {
    const failed = await outcome(translateResponsesStream(batches([[created, piece('So '), piece('far'), sse({ type: 'error', message: 'server_error' }, 'error')]]), context));
    expect(failed.events).toEqual(['response_started', 'model', 'text:So far']);
    expect(failed.error).toBeDefined();
  });
});
