/**
 * Reading a streamed chunk's text by its shape: a chunk shaped like an earlier text-only chunk
 * gives its text exactly as parsing it would, and any other chunk is left to the parser.
 */
import type { ModelRequest, StreamEvent } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { ChatStreamTranslator } from '../../src/llm/adapters/chat-completions-stream.js';
import { TextChunkShape } from '../../src/llm/adapters/text-chunk-shape.js';

const chunk = (content: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }], ...extra });

/** The text a parser reads at the place the translator reads it: the only choice's content. */
const parsedText = (data: string): string | undefined => {
  try {
    const parsed = JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> };
    return parsed.choices?.length === 1 ? parsed.choices[0]?.delta?.content : undefined;
  } catch {
    return undefined;
  }
};

function learned(data: string, text: string): TextChunkShape {
  const shape = new TextChunkShape();
  shape.learn(data, text, parsedText);
  return shape;
}

describe('the shape of a text-only chunk', () => {
  it('gives the text of a chunk shaped like the one it learned from', () => {
    const shape = learned(chunk('Hello'), 'Hello');
    expect(shape.learning).toBe(false);
    for (const text of [', world', 'x', '😀 naïve', ' {content: 1} ', 'a\u2028b', 'a piece of text longer than a short slice', '😀😀😀😀😀😀😀😀😀😀 naïve']) expect(shape.textOf(chunk(text))).toBe(text);
  });

  it('leaves to the parser the text that has escapes in it, and empty text', () => {
    const shape = learned(chunk('Hello'), 'Hello');
    for (const text of ['say "hi"', 'back\\slash', 'line\nbreak', 'tab\t', '']) expect(shape.textOf(chunk(text))).toBeUndefined();
    expect(shape.textOf(chunk('caf\u00e9').replace('é', '\\u00e9'))).toBeUndefined();
  });

  it('leaves to the parser a chunk in which anything but the text changed', () => {
    const shape = learned(chunk('Hello'), 'Hello');
    expect(shape.textOf(chunk('more', { usage: { total_tokens: 3 } }))).toBeUndefined();
    expect(shape.textOf(chunk('more').replace('"finish_reason":null', '"finish_reason":"stop"'))).toBeUndefined();
    expect(shape.textOf(chunk('more').replace('chatcmpl-1', 'chatcmpl-2'))).toBeUndefined();
    expect(shape.textOf('[DONE]')).toBeUndefined();
    // Shorter than the shape: cut anywhere, or the shape's own start and end with no room between.
    for (const cut of [0, 10, 70, chunk('more').length - 1]) expect(shape.textOf(chunk('more').slice(0, cut))).toBeUndefined();
    expect(shape.textOf(chunk('x').replace('"x"', '"'))).toBeUndefined();
    expect(shape.textOf(chunk('a","b'))).toBeUndefined();
  });

  it('learns nothing from a chunk whose text also stands elsewhere in it, and stops trying after a few', () => {
    const shape = new TextChunkShape();
    // The text equals the model's name, which comes first: its literal there is not the text's place.
    shape.learn(chunk('m'), 'm', parsedText);
    expect(shape.textOf(chunk('other'))).toBeUndefined();
    shape.learn(chunk('a"quote'), 'a"quote', parsedText);
    shape.learn(chunk('m'), 'm', parsedText);
    expect(shape.learning).toBe(false);
    shape.learn(chunk('fine'), 'fine', parsedText);
    expect(shape.textOf(chunk('other'))).toBeUndefined();
  });
});

describe('a Chat Completions answer read by its chunks\' shape', () => {
  it('says exactly the text a parser reads, whatever its chunks hold', () => {
    const pieces = ['Hel', 'lo', ' "quoted"', ', ', 'naïve 😀', '\n', 'tab\there', 'back\\slash', 'x', 'end.'];
    const messages = [
      { data: JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] }) },
      ...pieces.map((p) => ({ data: chunk(p) })),
      { data: JSON.stringify({ id: 'chatcmpl-1', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) },
      { data: '[DONE]' },
    ].map((m) => ({ ...m, event: undefined, id: undefined }));
    const translator = new ChatStreamTranslator({ model: 'm', request: {} as ModelRequest, requestId: undefined });
    const out: StreamEvent[] = [];
    // One chunk per network read: each read's text is its own delta.
    for (const message of messages) translator.read([message], out);
    translator.end(out);
    const deltas = out.flatMap((e) => (e.type === 'output_text_delta' ? [e.delta] : []));
    expect(deltas).toEqual(pieces);
    const done = out.at(-1);
    expect(done?.type === 'response_done' && done.response.output).toMatchObject([{ type: 'message', content: [{ type: 'output_text', text: pieces.join('') }] }]);
  });
});
