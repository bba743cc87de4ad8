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
import { StreamMapper } from '../../src/chat/stream-mapper.js';
import { endTurn } from '../../src/chat/turn-end.js';
import { TurnEmitter } from '../../src/chat/turn-emitter.js';
import { TurnRecorder, type ResponseUsage } from '../../src/chat/turn-recorder.js';
import type { Queryable } from '../../src/db/database.js';

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
let statements: Array<{ sql: string; params: readonly unknown[] }>;
let usages: ResponseUsage[];
let recorder: TurnRecorder;
let mapper: StreamMapper;

beforeEach(() => {
  sent = [];
  usages = [];
  // No coalescing: every delta is its own frame, so the test sees exactly what the mapper emitted.
  const emitter = new TurnEmitter({ publish: (_uuid, e) => sent.push(e) }, 'uuid', 'chat_stream', 'turn_1', 0, () => 0);
  // The recorder's statements, answered with a row id: what it writes, without a database. Each
  // test's own list: a recorder a test left running writes (on a later turn of the loop) there.
  const own: typeof statements = [];
  statements = own;
  const db: Queryable = {
    query: (sql, params = []) => {
      own.push({ sql, params });
      return Promise.resolve({ rows: [{ id: `row_${own.length}`, session_id: 'uuid' }] as never[], rowCount: 1 });
    },
  };
  recorder = new TurnRecorder(db, 'uuid', []);
  mapper = new StreamMapper(recorder, emitter, (u) => usages.push(u));
});

/** What the recorder wrote, as short tuples: rows inserted, rows updated, context items appended. */
function writes(): unknown[][] {
  return statements.map(({ sql, params }) => {
    // A statement shared by the turns of the moment takes an array per column: here, of one turn.
    const p = params.map((v) => (Array.isArray(v) ? (v[0] as unknown) : v));
    if (sql.includes('INSERT INTO messages')) {
      const args = typeof p[6] === 'string' ? (JSON.parse(p[6]) as unknown) : p[6];
      return ['insert', p[1], p[2] ?? p[4], args ?? undefined].filter((v) => v !== undefined && v !== null);
    }
    if (sql.includes('llm_context')) return ['context', ...(JSON.parse(String(p[1])) as unknown[])];
    if (sql.includes('tool_result')) return ['tool', p[1], p[2]];
    return ['text', p[1]];
  });
}

/** Ends the turn as stopped, so everything recorded is written. */
async function stop(): Promise<void> {
  await recorder.end(endTurn(recorder.open(), { kind: 'stop' }));
  recorder.dispose();
}

/** The wire events without the envelope, as short tuples. */
function wire(): unknown[][] {
  return sent.map((e) => {
    const { session_id: _s, turn_id: _t, seq: _q, type, ...rest } = e as ServerEvent & Loose;
    return [type, ...Object.values(rest)];
  });
}

describe('the Responses API stream', () => {
  it('maps text, reasoning, a tool call with its arguments, and usage; ignores empty deltas and foreign items', async () => {
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
    expect(usages).toEqual([{ inputTokens: 10, outputTokens: 3 }]);
    expect(recorder.usage).toEqual({ inputTokens: 10, outputTokens: 3 });
    // The tool call closed the text segment; no message item holds the text yet, so an
    // interrupted turn would save it into the context from here.
    expect(recorder.open()).toEqual({
      openText: undefined,
      unsaid: 'Hello',
      calls: [{ callId: 'call_1', name: 'lookup', args: { word: 'pulp' }, hasRow: false, inContext: false }],
    });
    expect(typeof recorder.firstTextAt).toBe('number');
    await stop();
    expect(writes()).toEqual([['insert', 'assistant', 'Hello']]);
  });

  it('runs and completes a call once each, writes the items in order, and ignores a response without usage', async () => {
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
    expect(recorder.usage).toBeUndefined();
    expect(wire()).toEqual([
      ['function_detected', 'call_1', 'lookup'],
      ['function_call_arguments_delta', 'call_1', '{"word":"a"}'],
      ['function_executing', 'call_1', 'lookup', { word: 'pulp' }],
      ['function_completed', 'call_1', 'lookup', 'the meaning', true],
    ]);
    expect(recorder.open().calls).toEqual([]);
    expect(recorder.firstTextAt).toBeUndefined();
    // Without a provider count the estimate covers every item of the turn (100 a piece here).
    const count = (items: unknown[]) => items.length * 100;
    expect(recorder.contextTokens(1_000, [], count)).toBe(1_400);

    mapper.handle(raw({ type: 'response_done', response: { id: 'r2', usage: { inputTokens: 7, outputTokens: 1 } } }));
    expect(usages).toEqual([{ inputTokens: 7, outputTokens: 1 }]);
    // The provider's count, plus what was added since (nothing yet).
    expect(recorder.contextTokens(1_000, [], count)).toBe(8);
    await stop();
    expect(writes()).toEqual([
      ['insert', 'tool_call', 'call_1', { word: 'pulp' }],
      ['tool', 'the meaning', true],
      // The first output writes the round so far; the repeated one joins the context at the end.
      ['context', call, call, result],
      ['context', result],
    ]);
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
    expect(recorder.open().calls).toEqual([
      { callId: 'call_a', name: 'fa', args: { x: 1 }, hasRow: false, inContext: false },
      { callId: 'call_b', name: 'fb', args: {}, hasRow: false, inContext: false },
      { callId: 'call_c', name: 'unknown', args: {}, hasRow: false, inContext: false },
    ]);
  });
});

describe('a model that sends no provider events', () => {
  it('learns of a tool call from tool_called, and of its result from tool_output', async () => {
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
    expect(recorder.open().calls).toEqual([]);
    await stop();
    // Each result that reached the client wrote the items so far to the context.
    expect(writes().map((w) => w[0])).toEqual(['insert', 'tool', 'context', 'context', 'context']);
  });

  it('keeps the text no message item holds yet, by segment, until the message item arrives', () => {
    mapper.handle(raw({ type: 'output_text_delta', delta: 'Before ' }));
    mapper.handle(raw({ type: 'output_text_delta', delta: 'the call.' }));
    mapper.handle(provider({ type: 'response.output_item.added', item: { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'lookup' } }));
    mapper.handle(raw({ type: 'output_text_delta', delta: 'After it.' }));
    mapper.handle(raw({ type: 'response_done', response: { id: 'r1', usage: { inputTokens: 1, outputTokens: 1 } } }));
    expect(recorder.open()).toMatchObject({ openText: 'After it.', unsaid: 'Before the call.\n\nAfter it.' });
    const message = { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Before the call.' }] };
    mapper.handle(new RunItemStreamEvent('message_output_created', new RunMessageOutputItem(message as never, agent)));
    expect(recorder.open()).toMatchObject({ openText: undefined, unsaid: '' });
    mapper.handle(raw({ type: 'output_text_delta', delta: 'Next.' }));
    expect(recorder.open()).toMatchObject({ openText: 'Next.', unsaid: 'Next.' });
  });

  it('a message item ends the text segment; a reasoning item only joins the context', async () => {
    const message = { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Hi' }] };
    const reasoning = { type: 'reasoning', content: [] };
    mapper.handle(new RunItemStreamEvent('reasoning_item_created', new RunReasoningItem(reasoning as never, agent)));
    mapper.handle(raw({ type: 'output_text_delta', delta: 'Hi' }));
    mapper.handle(new RunItemStreamEvent('message_output_created', new RunMessageOutputItem(message as never, agent)));
    expect(recorder.open()).toEqual({ openText: undefined, unsaid: '', calls: [] });
    await stop();
    expect(sent.map((e) => e.type)).toEqual(['assistant_delta']);
    expect(writes()).toEqual([['insert', 'assistant', 'Hi'], ['context', reasoning, message]]);
  });
});

describe('events the mapper cannot use', () => {
  it('are ignored without a frame, a write or a context item', async () => {
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
    expect(usages).toEqual([]);
    expect(recorder.open()).toEqual({ openText: undefined, unsaid: '', calls: [] });
    await stop();
    expect(writes()).toEqual([]);
  });
});

/**
 * Text a model sends past the Runner (`textTap`) while the events it sent before are still on
 * their way through the Runner: the user sees everything in the order the model said it.
 */
describe('text that comes past the Runner', () => {
  /** Model events as the adapter sends them, and the same objects as the Runner hands them on. */
  const started = { type: 'response_started' };
  const thinking = { type: 'model', event: { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { reasoning: 'Hmm.' } }] } };
  const call = {
    type: 'model',
    event: { object: 'chat.completion.chunk', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id: 'call_1', function: { name: 'lookup', arguments: '{}' } }] } }] },
  };
  const done = { type: 'response_done', response: { id: 'r1', usage: { inputTokens: 4, outputTokens: 2 } } };
  const through = (event: Loose): RunStreamEvent => new RunRawModelStreamEvent(event as never);

  it('goes at once when nothing the model sent before is still in flight', () => {
    const tap = mapper.textTap;
    tap.sent(started as never);
    mapper.handle(through(started));
    tap.text('Hel');
    tap.text('lo');
    expect(wire()).toEqual([
      ['assistant_delta', 'Hel'],
      ['assistant_delta', 'lo'],
    ]);
    expect(recorder.open().unsaid).toBe('Hello');
  });

  it('waits for the events sent before it, and goes before the ones sent after it', () => {
    const tap = mapper.textTap;
    tap.sent(started as never);
    tap.sent(thinking as never);
    tap.text('I will ');
    tap.text('look.');
    tap.sent(call as never);
    tap.text('Later.');
    tap.sent(done as never);
    expect(sent).toEqual([]);
    for (const event of [started, thinking, call, done]) mapper.handle(through(event));
    expect(wire()).toEqual([
      ['reasoning_delta', 'Hmm.'],
      ['assistant_delta', 'I will look.'],
      ['function_detected', 'call_1', 'lookup'],
      ['function_call_arguments_delta', 'call_1', '{}'],
      ['assistant_delta', 'Later.'],
    ]);
    expect(usages).toEqual([{ inputTokens: 4, outputTokens: 2 }]);
  });

  it('that followed an event the Runner never handed on goes before the next event it does', () => {
    const tap = mapper.textTap;
    tap.sent(started as never);
    tap.text('one ');
    tap.sent(thinking as never);
    tap.text('two');
    mapper.handle(through(thinking));
    expect(wire()).toEqual([
      ['assistant_delta', 'one '],
      ['reasoning_delta', 'Hmm.'],
      ['assistant_delta', 'two'],
    ]);
  });

  it('is dropped once the turn stops reading, with what was still waiting', () => {
    const tap = mapper.textTap;
    tap.text('said ');
    tap.sent(started as never);
    tap.text('waiting');
    mapper.close();
    tap.text('late');
    mapper.handle(through(started));
    expect(wire()).toEqual([['assistant_delta', 'said ']]);
    expect(recorder.open().unsaid).toBe('said ');
  });
});

describe('the coalescing of an answer', () => {
  it('sends the answer\'s last text as soon as the model says the answer is complete', () => {
    // A window no test outlasts: only the end of the answer can send the text it holds.
    const held: ServerEvent[] = [];
    const emitter = new TurnEmitter({ publish: (_uuid, e) => held.push(e) }, 'uuid', 'chat_stream', 'turn_1', 60_000, () => 0);
    const coalescing = new StreamMapper(recorder, emitter, () => undefined);
    coalescing.handle(raw({ type: 'response_started' }));
    coalescing.handle(raw({ type: 'output_text_delta', delta: 'first ' }));
    coalescing.handle(raw({ type: 'output_text_delta', delta: 'and ' }));
    coalescing.handle(raw({ type: 'output_text_delta', delta: 'last' }));
    expect(held.map((e) => (e.type === 'assistant_delta' ? e.content : e.type))).toEqual(['first ']);
    coalescing.handle(raw({ type: 'response_done', response: { id: 'r1', usage: { inputTokens: 4, outputTokens: 3 } } }));
    expect(held.map((e) => (e.type === 'assistant_delta' ? e.content : e.type))).toEqual(['first ', 'and last']);
  });
});
