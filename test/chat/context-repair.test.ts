import type { AgentInputItem } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import {
  danglingCalls,
  interruptedAssistantMessage,
  repairContext,
  userMessage,
} from '../../src/chat/context-store.js';

const call = (callId: string): AgentInputItem => ({ type: 'function_call', callId, name: 'tool', arguments: '{}' });
const result = (callId: string): AgentInputItem => ({ type: 'function_call_result', callId, name: 'tool', status: 'completed', output: 'ok' });
const ids = (items: AgentInputItem[]) =>
  items.map((i) => ('callId' in i ? `${i.type === 'function_call' ? 'call' : 'out'}:${i.callId}` : `msg:${'role' in i ? i.role : '?'}`));

describe('context repair', () => {
  it('leaves a valid context untouched', () => {
    const items = [userMessage('hi'), call('a'), result('a')];
    expect(repairContext(items)).toBe(items);
    expect(danglingCalls(items)).toEqual([]);
  });

  it('gives a call without output a synthetic one right after its run of calls', () => {
    const items = [userMessage('hi'), call('a'), call('b'), result('a'), userMessage('next')];
    const repaired = repairContext(items);
    expect(ids(repaired)).toEqual(['msg:user', 'call:a', 'call:b', 'out:a', 'out:b', 'msg:user']);
    const synthetic = repaired[4] as Extract<AgentInputItem, { type: 'function_call_result' }>;
    // Only a crash leaves a call without output: the model reads that the server stopped.
    expect(synthetic.output).toBe('Interrupted by the server stopping before the tool returned.');
  });

  it('repairs a call left at the very end (a crash mid-tool)', () => {
    expect(ids(repairContext([userMessage('hi'), call('z')]))).toEqual(['msg:user', 'call:z', 'out:z']);
  });

  it('marks partial text as interrupted for the model', () => {
    const item = interruptedAssistantMessage('half an answer');
    expect(item).toMatchObject({ role: 'assistant', status: 'incomplete', content: [{ type: 'output_text', text: 'half an answer\n\n[interrupted by the user]' }] });
  });
});
