/** Small builders of SDK input items for the context tests. */
import type { AgentInputItem } from '@openai/agents';

export const user = (text: string): AgentInputItem => ({ role: 'user', content: text });

export const assistant = (text: string): AgentInputItem => ({
  type: 'message',
  role: 'assistant',
  status: 'completed',
  content: [{ type: 'output_text', text }],
});

export const call = (callId: string, name = 'read_file', args: Record<string, unknown> = { path: 'input/a.txt' }): AgentInputItem => ({
  type: 'function_call',
  callId,
  name,
  arguments: JSON.stringify(args),
  status: 'completed',
});

export const result = (callId: string, output: string, name = 'read_file'): AgentInputItem => ({
  type: 'function_call_result',
  callId,
  name,
  status: 'completed',
  output: { type: 'text', text: output },
});

export const reasoning = (text: string): AgentInputItem => ({ type: 'reasoning', content: [{ type: 'input_text', text }] });

/** A user exchange: question, one tool call and its result, answer. */
export const exchange = (n: number): AgentInputItem[] => [
  user(`question ${n}`),
  call(`call_${n}`),
  result(`call_${n}`, `file contents ${n}`),
  assistant(`answer ${n}`),
];
