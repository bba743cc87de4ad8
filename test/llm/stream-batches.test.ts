/**
 * How the native adapters' stream translators treat the server-sent events of one network chunk:
 * consecutive text pieces become one `output_text_delta` (fewer async steps when a busy server
 * finds several waiting), every other event keeps its place, and text read before a failure is
 * still delivered before the failure.
 */
import type { ModelRequest, StreamEvent } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { ChatStreamTranslator } from '../../src/llm/adapters/chat-completions-stream.js';
import { ResponsesStreamTranslator } from '../../src/llm/adapters/responses-stream.js';
import type { StreamTranslator } from '../../src/llm/adapters/sse-model.js';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { openAIEndpoint } from '../../src/llm/adapters/endpoint.js';
import { SseTransport, type SseMessage } from '../../src/llm/adapters/sse-transport.js';

const context = { model: 'm', request: {} as ModelRequest, requestId: undefined };

const sse = (data: unknown, event?: string): SseMessage => ({ data: typeof data === 'string' ? data : JSON.stringify(data), event, id: undefined });

/**
 * What the translator gives for `batches` read one network chunk at a time (then its end, when the
 * body would end or the answer is done), as compact strings, and the error that ended it.
 */
function outcome(translator: StreamTranslator, batches: SseMessage[][]): { events: string[]; error?: string } {
  const out: StreamEvent[] = [];
  const events = (): string[] => out.map((e) => (e.type === 'output_text_delta' ? `text:${e.delta}` : e.type));
  try {
    for (const batch of batches) {
      translator.read(batch, out);
      if (translator.done) break;
    }
    translator.end(out);
  } catch (err) {
    return { events: events(), error: (err as Error).message };
  }
  return { events: events() };
}

const text = (content: string) => sse({ id: 'c1', choices: [{ index: 0, delta: { content } }] });
const toolCall = sse({ id: 'c1', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '{}' } }] } }] });
const finish = sse({ id: 'c1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });

describe('a Chat Completions stream read in network chunks', () => {
  it('sends the text pieces of one chunk as one delta, and keeps chunks apart', () => {
    const { events } = outcome(new ChatStreamTranslator(context), [[text('Hel'), text('lo')], [text(', '), text('world'), finish], [sse('[DONE]')]]);
    expect(events).toEqual(['response_started', 'text:Hello', 'text:, world', 'model', 'response_done']);
  });

  it('keeps a tool call between the text before and after it', () => {
    const { events } = outcome(new ChatStreamTranslator(context), [[text('a'), text('b'), toolCall, text('c')], [sse('[DONE]')]]);
    expect(events).toEqual(['response_started', 'text:ab', 'model', 'text:c', 'response_done']);
  });

  it('delivers the text read before an error in the stream, then fails', () => {
    const failed = outcome(new ChatStreamTranslator(context), [[text('Part'), text('ial'), sse({ error: { message: 'overloaded' } })]]);
    expect(failed).toEqual({ events: ['response_started', 'text:Partial'], error: 'overloaded' });
    const garbled = outcome(new ChatStreamTranslator(context), [[text('Half'), sse('{not json')]]);
    expect(garbled).toEqual({ events: ['response_started', 'text:Half'], error: expect.stringContaining('malformed') });
  });
});

const created = sse({ type: 'response.created', response: { id: 'r1' } });
const piece = (delta: string, item = 'msg_1') => sse({ type: 'response.output_text.delta', item_id: item, delta });

describe('a Responses stream read in network chunks', () => {
  it('joins the text pieces of one item in one chunk, not those of two items', () => {
    const { events } = outcome(new ResponsesStreamTranslator(context), [[created, piece('Hel'), piece('lo'), piece('!', 'msg_2')], [piece('?', 'msg_2')]]);
    expect(events).toEqual(['response_started', 'model', 'text:Hello', 'text:!', 'text:?']);
  });

  it('delivers the text read before an error event, then fails', () => {
    const failed = outcome(new ResponsesStreamTranslator(context), [[created, piece('So '), piece('far'), sse({ type: 'error', message: 'server_error' }, 'error')]]);
    expect(failed.events).toEqual(['response_started', 'model', 'text:So far']);
    expect(failed.error).toBeDefined();
  });
});

describe('a streamed body read from the network', () => {
  /** A provider that writes each event as an HTTP chunk of its own: three at once, and a fourth once `more` resolves. */
  async function provider(more: Promise<void>): Promise<Server> {
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        for (const word of ['one ', 'two ', 'three ']) res.write(`data: ${JSON.stringify({ word })}\n\n`);
        void more.then(() => res.end(`data: ${JSON.stringify({ word: 'four' })}\n\n`));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  it('gives the translator what one read brings as one batch, however many HTTP chunks it holds', async () => {
    let readFirst = (): void => undefined;
    const server = await provider(new Promise<void>((resolve) => (readFirst = resolve)));
    const transport = new SseTransport(openAIEndpoint(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, 'k'), { readTimeoutMs: 5_000, maxRetries: 0 });
    const answer = await transport.open('chat/completions', 'm', '{}', true, undefined);
    const batches: string[][] = [];
    await new Promise<void>((resolve, reject) => {
      const reading = transport.read(answer, undefined, {
        batch: (messages) => {
          batches.push(messages.map((m) => (JSON.parse(m.data) as { word: string }).word));
          readFirst();
        },
        end: () => {
          reading.stop();
          resolve();
        },
        fail: reject,
      });
    });
    server.close();
    expect(batches).toEqual([['one ', 'two ', 'three '], ['four']]);
  });
});
