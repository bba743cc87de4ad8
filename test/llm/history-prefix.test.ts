/**
 * The stored history goes in front of every model request the Runner makes, while the Runner
 * itself only holds the turn's own items: the model must see exactly what it would have seen had
 * the Runner been given the whole list.
 */
import { Agent, Runner, tool, type AgentInputItem } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { NativeModelProvider, openAIEndpoint } from '../../src/llm/adapters/index.js';
import { HistoryPrefixProvider } from '../../src/llm/history-prefix.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';

const history: AgentInputItem[] = [
  { type: 'message', role: 'user', content: 'What is in notes.txt?' },
  { type: 'function_call', callId: 'call_old', name: 'lookup', arguments: '{"q":"notes"}', status: 'completed' },
  { type: 'function_call_result', callId: 'call_old', name: 'lookup', status: 'completed', output: { type: 'text', text: 'a shopping list' } },
  { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'A shopping list.' }] },
];

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

/** The role (or type) and text of each chat completions message, in order. */
function shape(body: { messages: Array<{ role: string; content?: unknown; tool_calls?: Array<{ id: string }>; tool_call_id?: string }> }): string[] {
  return body.messages.map((m) => `${m.role}:${m.tool_call_id ?? m.tool_calls?.map((c) => c.id).join(',') ?? (typeof m.content === 'string' ? m.content : JSON.stringify(m.content))}`);
}

describe('the history prefix provider', () => {
  it('puts the history before the turn on every model call of a run, tool round trips included', async () => {
    fake.enqueue(
      { steps: [{ type: 'tool_call', name: 'lookup', arguments: { q: 'milk' }, callId: 'call_new' }] },
      { steps: [{ type: 'text', deltas: ['Milk is ', 'on it.'] }] },
    );
    const base = new NativeModelProvider(openAIEndpoint(fake.baseUrl, 'test'), 'chat_completions', { readTimeoutMs: 10_000, maxRetries: 0 });
    const lookup = tool({ name: 'lookup', description: 'looks up', parameters: z.object({ q: z.string() }), execute: ({ q }) => `found ${q}` });
    const agent = new Agent({ name: 'pulp', instructions: 'Be brief.', model: 'gpt-4o-mini', tools: [lookup] });
    const runner = new Runner({ modelProvider: new HistoryPrefixProvider(base, history), tracingDisabled: true });
    const from = fake.requests.length;

    const result = await runner.run(agent, [{ type: 'message', role: 'user', content: 'Is milk on it?' }], { stream: true });
    for await (const _event of result) void _event;
    await result.completed;

    expect(result.finalOutput).toBe('Milk is on it.');
    const [first, second] = fake.requests.slice(from).map((r) => shape(r.body));
    const before = ['system:Be brief.', 'user:What is in notes.txt?', 'assistant:call_old', 'tool:call_old', 'assistant:[{"type":"text","text":"A shopping list."}]'];
    expect(first).toEqual([...before, 'user:Is milk on it?']);
    expect(second).toEqual([...before, 'user:Is milk on it?', 'assistant:call_new', 'tool:call_new']);
  });

  it('hands the base model through untouched when there is no history', async () => {
    const base = new NativeModelProvider(openAIEndpoint(fake.baseUrl, 'test'), 'chat_completions', { readTimeoutMs: 10_000, maxRetries: 0 });
    const model = base.getModel('gpt-4o-mini');
    const wrapped = await new HistoryPrefixProvider({ getModel: () => Promise.resolve(model) }, []).getModel('gpt-4o-mini');
    expect(wrapped).toBe(model);
  });
});
