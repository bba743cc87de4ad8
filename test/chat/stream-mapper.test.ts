/**
 * The stream mapper fed with the Agents SDK's own stream event classes, shaped as the SDK emits
 * them for the Responses API, for Chat Completions and for a model that sends neither (tool calls
 * known only from `tool_called`). The socket tests drive it through the real SDK over HTTP; these
 * pin the edges a provider can produce that the fake model does not: empty deltas, a call without
 * an id, a second response reusing a tool index, an answer without usage.
 */
import {
  Agent,
  RunAgentUpdatedStreamEvent,
  RunItemStreamEvent,
  RunMessageOutputItem,
  RunRawModelStreamEvent,
  RunReasoningItem,
  RunToolCallItem,
  RunToolCallOutputItem,
  type RunStreamEvent,
} from '@openai/agents';
import { beforeEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import type { TurnMessageWriter } from '../../src/chat/message-store.js';
import { StreamMapper, type ResponseUsage } from '../../src/chat/stream-mapper.js';
import { TurnEmitter } from '../../src/chat/turn-emitter.js';

const agent = new Agent({ name: 'test' });

type Loose = Record<string, unknown>;
const raw = (data: Loose): RunStreamEvent => new RunRawModelStreamEvent(data as never);
const provider = (event: Loose): RunStreamEvent => raw({ type: 'model', event });
const chunk = (delta: Loose | undefined): RunStreamEvent =>
  provider({ object: 'chat.completion.chunk', choices: delta === undefined ? [] : [{ index: 0, delta }] });
const toolCalled = (rawItem: Loose): RunStreamEvent => new RunItemStreamEvent('tool_called', new RunToolCallItem(rawItem as never, agent));
const toolOutput = (rawItem: Loose, output: unknown): RunStreamEvent =>
  new RunItemStreamEvent('tool_output', new RunToolCallOutputItem(rawItem as never, agent, output));

let sent: ServerEvent[];
let writes: unknown[][];
let usages: ResponseUsage[];
let toolRounds: number;
let mapper: StreamMapper;

beforeEach(() => {
  sent = [];
  writes = [];
  usages = [];
  toolRounds = 0;
  // No coalescing: every delta is its own frame, so the test sees exactly what the mapper emitted.
  const emitter = new TurnEmitter({ publish: (_uuid, e) => sent.push(e) }, 'uuid', 'chat_stream', 'turn_1', 0, () => 0);
  const writer = {
    appendText: (delta: string) => writes.push(['text', delta]),
    closeText: () => writes.push(['close']),
    toolStarted: (callId: string, name: string, args: unknown) => writes.push(['started', callId, name, args]),
    toolCompleted: (callId: string, result: string, success: boolean) => writes.push(['completed', callId, result, success]),
  } as unknown as TurnMessageWriter;
  mapper = new StreamMapper(emitter, writer, (u) => usages.push(u), () => (toolRounds += 1));
});

/** The wire events without the envelope, as short tuples. */
function wire(): unknown[][] {
  return sent.map((e) => {
    const { session_id: _s, turn_id: _t, seq: _q, type, ...rest } = e as ServerEvent & Loose;
    return [type, ...Object.values(rest)];
  });
}

describe('the Responses API stream', () => {
  it('maps text, reasoning, a tool call with its arguments, and usage; ignores empty deltas and foreign items', () => {
    const events: RunStreamEvent[] = [
      raw({ type: 'response_started' }),
      provider({ type: 'response.reasoning_summary_text.delta', delta: 'th' }),
      provider({ type: 'response.reasoning_text.delta', delta: 'ink' }),
      provider({ type: 'response.reasoning_text.delta', delta: '' }),
      raw({ type: 'output_text_delta', delta: 'Hel' }),
      raw({ type: 'output_text_delta', delta: '' }),
      raw({ type: 'output_text_delta', delta: 'lo' }),
      provider({ type: 'response.output_item.added', item: { type: 'message', id: 'msg_1', call_id: 'not_a_call' } }),
      provider({ type: 'response.output_item.added', item: { type: 'function_call', id: 'fc_0', name: 'no_call_id' } }),
      provider({ type: 'response.output_item.added', item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup' } }),
      provider({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', delta: '{"word":' }),
      provider({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', delta: '' }),
      provider({ type: 'response.function_call_arguments.delta', item_id: 'fc_unknown', delta: 'x' }),
      provider({ type: 'response.function_call_arguments.delta', delta: 'no item id' }),
      provider({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', delta: '"pulp"}' }),
      provider({ type: 'response.output_text.done', text: 'Hello' }),
      raw({ type: 'response_done', response: { id: 'r1', usage: { inputTokens: 10, outputTokens: 3, totalTokens: 13 } } }),
    ];
    events.forEach((e) => mapper.handle(e));

    expect(wire()).toEqual([
      ['reasoning_delta', 'th'],
      ['reasoning_delta', 'ink'],
      ['assistant_delta', 'Hel'],
      ['assistant_delta', 'lo'],
      ['function_detected', 'call_1', 'lookup'],
      ['function_call_arguments_delta', 'call_1', '{"word":'],
      ['function_call_arguments_delta', 'call_1', '"pulp"}'],
    ]);
    expect(writes).toEqual([['text', 'Hel'], ['text', 'lo'], ['close']]);
    expect(usages).toEqual([{ inputTokens: 10, outputTokens: 3 }]);
    expect(mapper.lastUsage).toEqual({ inputTokens: 10, outputTokens: 3 });
    expect(mapper.responses).toBe(1);
    expect(mapper.openCalls()).toEqual([{ callId: 'call_1', name: 'lookup', args: { word: 'pulp' }, executing: false }]);
    expect(typeof mapper.firstDeltaAt).toBe('number');
    // No message item holds the text yet: an interrupted turn saves it from here.
    expect(mapper.responseText).toBe('Hello');
  });

  it('runs, completes and forgets a call once each, hands over the items in order, and counts responses without usage', () => {
    mapper.handle(provider({ type: 'response.output_item.added', item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup' } }));
    mapper.handle(provider({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', delta: '{"word":"a"}' }));
    mapper.handle(raw({ type: 'response_done', response: { id: 'r1', usage: { inputTokens: 5 } } }));
    // After the response ended, its item ids mean nothing.
    mapper.handle(provider({ type: 'response.function_call_arguments.delta', item_id: 'fc_1', delta: 'late' }));

    const call = { type: 'function_call', callId: 'call_1', name: 'lookup', arguments: '{"word":"pulp"}', status: 'completed' };
    mapper.handle(toolCalled(call));
    mapper.handle(toolCalled(call));
    const result = { type: 'function_call_result', callId: 'call_1', name: 'lookup', status: 'completed', output: { type: 'text', text: 'raw' } };
    mapper.handle(toolOutput(result, 'the meaning'));
    mapper.handle(toolOutput(result, 'again'));

    expect(usages).toEqual([]);
    expect(mapper.lastUsage).toBeUndefined();
    expect(mapper.responses).toBe(1);
    expect(wire()).toEqual([
      ['function_detected', 'call_1', 'lookup'],
      ['function_call_arguments_delta', 'call_1', '{"word":"a"}'],
      ['function_executing', 'call_1', 'lookup', { word: 'pulp' }],
      ['function_completed', 'call_1', 'lookup', 'the meaning', true],
    ]);
    expect(writes).toEqual([['close'], ['started', 'call_1', 'lookup', { word: 'pulp' }], ['completed', 'call_1', 'the meaning', true]]);
    expect(toolRounds).toBe(1);
    expect(mapper.openCalls()).toEqual([]);
    expect(mapper.takeContextItems()).toEqual([call, call, result, result]);
    expect(mapper.takeContextItems()).toEqual([]);
    expect(mapper.itemsSinceUsage).toEqual([result]);
    expect(mapper.firstDeltaAt).toBeUndefined();

    mapper.handle(raw({ type: 'response_done', response: { id: 'r2', usage: { inputTokens: 7, outputTokens: 1 } } }));
    expect(mapper.itemsSinceUsage).toEqual([]);
    expect(mapper.responses).toBe(2);
    expect(usages).toEqual([{ inputTokens: 7, outputTokens: 1 }]);
  });
});

describe('the Chat Completions stream', () => {
  it('maps reasoning fields, tool calls by index (a new response starts the indexes again), and skips what is not a delta', () => {
    const events: RunStreamEvent[] = [
      chunk({ reasoning_content: 'r1' }),
      chunk({ reasoning: 'r2' }),
      chunk({ reasoning_content: '' }),
      chunk(undefined),
      provider({ object: 'chat.completion.chunk', choices: [{ index: 0 }] }),
      provider({ object: 'something.else', choices: [{ delta: { reasoning: 'not a chunk' } }] }),
      chunk({ tool_calls: [null, { index: 0, id: 'call_a', type: 'function', function: { name: 'fa', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{"x":' } }] }),
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'fb', arguments: '{}' } }] }),
      chunk({ tool_calls: [{ function: { arguments: '1}' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'call_again', function: { name: 'ignored' } }] }),
      raw({ type: 'response_started' }),
      chunk({ tool_calls: [{ index: 0, id: 'call_c', function: {} }] }),
      chunk({ tool_calls: [{ index: 5, function: { arguments: 'no call at this index' } }] }),
    ];
    events.forEach((e) => mapper.handle(e));

    expect(wire()).toEqual([
      ['reasoning_delta', 'r1'],
      ['reasoning_delta', 'r2'],
      ['function_detected', 'call_a', 'fa'],
      ['function_call_arguments_delta', 'call_a', '{"x":'],
      ['function_detected', 'call_b', 'fb'],
      ['function_call_arguments_delta', 'call_b', '{}'],
      ['function_call_arguments_delta', 'call_a', '1}'],
      ['function_detected', 'call_c', 'unknown'],
    ]);
    expect(mapper.openCalls()).toEqual([
      { callId: 'call_a', name: 'fa', args: { x: 1 }, executing: false },
      { callId: 'call_b', name: 'fb', args: {}, executing: false },
      { callId: 'call_c', name: 'unknown', args: {}, executing: false },
    ]);
    mapper.markCompleted('call_b');
    mapper.markCompleted('call_unknown');
    expect(mapper.openCalls().map((c) => c.callId)).toEqual(['call_a', 'call_c']);
  });
});

describe('a model that sends no provider events', () => {
  it('learns of a tool call from tool_called, and of its result from tool_output', () => {
    mapper.handle(toolCalled({ type: 'hosted_tool_call', name: 'web_search', status: 'completed' }));
    mapper.handle(toolCalled({ type: 'function_call', name: 'no_id', arguments: '{}' }));
    mapper.handle(toolCalled({ type: 'function_call', callId: 'call_z', arguments: '' }));
    mapper.handle(toolOutput({ type: 'function_call_result', name: 'no_id', output: 'x' }, 'x'));
    mapper.handle(toolOutput({ type: 'function_call_result', callId: 'call_z', output: { type: 'text', text: '{"error":"File not found"}' } }, undefined));
    // A result for a call the stream never showed still reaches the client, under the result's name.
    mapper.handle(toolOutput({ type: 'function_call_result', callId: 'call_y', name: 'stray' }, 'fine'));
    mapper.handle(toolOutput({ type: 'function_call_result', callId: 'call_w' }, 'fine'));

    expect(wire()).toEqual([
      ['function_detected', 'call_z', 'unknown'],
      ['function_executing', 'call_z', 'unknown', {}],
      ['function_completed', 'call_z', 'unknown', '{"error":"File not found"}', false],
      ['function_completed', 'call_y', 'stray', 'fine', true],
      ['function_completed', 'call_w', 'unknown', 'fine', true],
    ]);
    expect(toolRounds).toBe(3);
    expect(mapper.openCalls()).toEqual([]);
  });

  it('keeps the text no message item holds yet, by segment, until the message item arrives', () => {
    mapper.handle(raw({ type: 'output_text_delta', delta: 'Before ' }));
    mapper.handle(raw({ type: 'output_text_delta', delta: 'the call.' }));
    mapper.handle(provider({ type: 'response.output_item.added', item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup' } }));
    mapper.handle(raw({ type: 'output_text_delta', delta: 'After it.' }));
    mapper.handle(raw({ type: 'response_done', response: { id: 'r1', usage: { inputTokens: 1, outputTokens: 1 } } }));
    expect(mapper.responseText).toBe('Before the call.\n\nAfter it.');
    const message = { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Before the call.' }] };
    mapper.handle(new RunItemStreamEvent('message_output_created', new RunMessageOutputItem(message as never, agent)));
    expect(mapper.responseText).toBe('');
    mapper.handle(raw({ type: 'output_text_delta', delta: 'Next.' }));
    expect(mapper.responseText).toBe('Next.');
  });

  it('a message item ends the text segment; a reasoning item only joins the context', () => {
    const message = { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi' }] };
    const reasoning = { type: 'reasoning', content: [] };
    mapper.handle(new RunItemStreamEvent('reasoning_item_created', new RunReasoningItem(reasoning as never, agent)));
    expect(writes).toEqual([]);
    mapper.handle(new RunItemStreamEvent('message_output_created', new RunMessageOutputItem(message as never, agent)));
    expect(writes).toEqual([['close']]);
    expect(sent).toEqual([]);
    expect(mapper.takeContextItems()).toEqual([reasoning, message]);
  });
});

describe('events the mapper cannot use', () => {
  it('are ignored without a frame, a write or a context item', () => {
    mapper.handle(new RunAgentUpdatedStreamEvent(agent));
    mapper.handle(raw({ type: 'model', event: 'not an object' }));
    mapper.handle(provider({ type: 'response.output_item.added' }));
    mapper.handle(provider({ type: 'response.output_item.added', item: { type: 'function_call', call_id: 42, name: 'n' } }));
    mapper.handle(raw({ type: 'output_text_delta', delta: 7 }));
    mapper.handle(raw({ type: 'response_done' }));
    mapper.handle(raw({ type: 'response_done', response: { usage: { inputTokens: '5', outputTokens: 1 } } }));
    mapper.handle(raw({ type: 'response_done', response: { usage: { inputTokens: 5, outputTokens: '1' } } }));
    mapper.handle(raw({ type: 'something_new' }));
    mapper.handle(new RunItemStreamEvent('tool_output', new RunToolCallOutputItem(undefined as never, agent, 'x')));
    expect(sent).toEqual([]);
    expect(writes).toEqual([]);
    expect(usages).toEqual([]);
    expect(mapper.responses).toBe(3);
    expect(mapper.takeContextItems()).toEqual([]);
    expect(toolRounds).toBe(0);
  });
});
