/**
 * The Responses request body's text: its stored history (the kept context's frozen items) is
 * serialized once and reused by later requests, and the body is the same as if nothing had been
 * kept — only its key order differs from the SDK's (the input goes last).
 */
import type { AgentInputItem, ModelRequest } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { responsesPayload } from '../../src/llm/adapters/responses-request.js';

function deepFrozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFrozen(inner);
    Object.freeze(value);
  }
  return value;
}

const history = (): AgentInputItem[] => [
  { type: 'message', role: 'user', content: 'What does data.csv hold?' },
  { type: 'function_call', callId: 'call_1', name: 'read_file', arguments: '{"path":"data.csv"}', status: 'completed' },
  { type: 'function_call_result', callId: 'call_1', name: 'read_file', status: 'completed', output: { type: 'text', text: 'day,cost\n1,3' } },
  { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Day 1 cost 3 "euros".' }] },
];

const request = (input: AgentInputItem[], providerData?: Record<string, unknown>): ModelRequest =>
  ({
    systemInstructions: 'Be brief.',
    input,
    modelSettings: providerData ? { providerData } : {},
    tools: [],
    outputType: 'text',
    handoffs: [],
    tracing: false,
  }) as unknown as ModelRequest;

describe('the Responses request body', () => {
  it('is the same for a stored history serialized before and for one never seen', () => {
    const kept = deepFrozen(history());
    const question: AgentInputItem = { type: 'message', role: 'user', content: 'And day 2?' };
    const first = responsesPayload(request([...kept, question]), 'gpt-4o', true);
    const again = responsesPayload(request([...kept, { ...question, content: 'And day 3?' }]), 'gpt-4o', true);
    const fresh = responsesPayload(request([...history(), { ...question, content: 'And day 3?' }]), 'gpt-4o', true);
    expect(again).toBe(fresh);
    const body = JSON.parse(first) as { model: string; instructions: string; stream: boolean; input: unknown[] };
    expect(body).toMatchObject({ model: 'gpt-4o', instructions: 'Be brief.', stream: true });
    expect(body.input).toEqual([
      { role: 'user', content: 'What does data.csv hold?' },
      { type: 'function_call', name: 'read_file', call_id: 'call_1', arguments: '{"path":"data.csv"}', status: 'completed' },
      { type: 'function_call_output', call_id: 'call_1', output: 'day,cost\n1,3', status: 'completed' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Day 1 cost 3 "euros".', annotations: [] }], status: 'completed' },
      { role: 'user', content: 'And day 2?' },
    ]);
  });

  it('serializes again an item that may have changed since', () => {
    const item = { type: 'message', role: 'user', content: 'first words' } as AgentInputItem & { content: string };
    responsesPayload(request([item]), 'gpt-4o', true);
    item.content = 'other words';
    expect(JSON.parse(responsesPayload(request([item]), 'gpt-4o', true))).toMatchObject({ input: [{ role: 'user', content: 'other words' }] });
  });

  it('leaves an input set by the settings\' provider data as it is', () => {
    const body = JSON.parse(responsesPayload(request(history(), { input: [{ role: 'user', content: 'from provider data' }] }), 'gpt-4o', false)) as { input: unknown };
    expect(body.input).toEqual([{ role: 'user', content: 'from provider data' }]);
  });
});
