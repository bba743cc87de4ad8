import type { AgentInputItem } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { isSummaryItem, makeSummaryItem, planSummary, SUMMARY_PREFIX, summaryText } from '../../src/context/summary-plan.js';
import { assistant, call, exchange, reasoning, result, user } from './items.js';

/** Every call id on one side has its output on the same side, and the other way round. */
function expectNoOrphans(items: AgentInputItem[]): void {
  const calls = items.filter((i) => i.type === 'function_call').map((i) => (i as { callId: string }).callId);
  const outputs = items.filter((i) => i.type === 'function_call_result').map((i) => (i as { callId: string }).callId);
  expect(new Set(calls)).toEqual(new Set(outputs));
}

describe('summary plan', () => {
  it('keeps the last two user exchanges verbatim and summarizes everything older', () => {
    const items = [...exchange(1), ...exchange(2), ...exchange(3), ...exchange(4)];
    const plan = planSummary(items);
    expect(plan).not.toBeNull();
    expect(plan?.older).toEqual([...exchange(1), ...exchange(2)]);
    expect(plan?.kept).toEqual([...exchange(3), ...exchange(4)]);
    expectNoOrphans(plan?.older ?? []);
    expectNoOrphans(plan?.kept ?? []);
  });

  it('keeps the tool calls, outputs and answer of an exchange together with its user message', () => {
    const longTurn = [user('analyse'), call('a'), result('a', 'x'), call('b'), result('b', 'y'), assistant('done')];
    const items = [user('hi'), assistant('hello'), user('and?'), assistant('more'), ...longTurn, user('thanks'), assistant('welcome')];
    const plan = planSummary(items);
    expect(plan?.kept).toEqual([...longTurn, user('thanks'), assistant('welcome')]);
    expect(plan?.older).toHaveLength(4);
  });

  it('skips when fewer than three items are older than the kept exchanges', () => {
    expect(planSummary([user('a'), assistant('b'), user('c'), assistant('d'), user('e'), assistant('f')])).toBeNull();
    expect(planSummary([...exchange(1), ...exchange(2)])).toBeNull();
    expect(planSummary([user('only one')])).toBeNull();
    expect(planSummary([])).toBeNull();
  });

  it('summarizes exactly three older items', () => {
    const items = [user('a'), call('c'), result('c', 'r'), ...exchange(2), ...exchange(3)];
    expect(planSummary(items)?.older).toEqual([user('a'), call('c'), result('c', 'r')]);
  });

  it('moves the cut earlier rather than separate a tool call from its output', () => {
    // An interrupted turn left a call whose output was written after the next user message.
    const items = [
      ...exchange(1),
      user('question 2'),
      reasoning('plan the call'),
      call('late'),
      user('question 3'),
      result('late', 'late output'),
      assistant('answer 3'),
      ...exchange(4),
    ];
    const plan = planSummary(items);
    expect(plan).not.toBeNull();
    expect(plan?.older).toEqual([...exchange(1), user('question 2')]);
    expect(plan?.kept[0]).toEqual(reasoning('plan the call'));
    expect(plan?.kept[1]).toEqual(call('late'));
    expectNoOrphans(plan?.older ?? []);
    expectNoOrphans(plan?.kept ?? []);
  });

  it.each([
    ['function_call', 'function_call_result'],
    ['computer_call', 'computer_call_result'],
    ['shell_call', 'shell_call_output'],
    ['apply_patch_call', 'apply_patch_call_output'],
    ['program', 'program_output'],
    ['tool_search_call', 'tool_search_output'],
  ])('keeps a %s with its %s, whether the id is callId or call_id', (callType, outputType) => {
    for (const key of ['callId', 'call_id']) {
      const callItem = { type: callType, [key]: 'x1' } as unknown as AgentInputItem;
      const outputItem = { type: outputType, [key]: 'x1' } as unknown as AgentInputItem;
      const items = [user('u1'), assistant('a1'), user('u2'), callItem, user('u3'), outputItem, assistant('a3'), user('u4'), assistant('a4')];
      const plan = planSummary(items);
      expect(plan?.older).toEqual([user('u1'), assistant('a1'), user('u2')]);
      expect(plan?.kept[0]).toEqual(callItem);
    }
  });

  it('pairs only non-empty call ids, and pulls the cut back to the first call of a repeated id', () => {
    const unnamedCall = { type: 'function_call', callId: '' } as unknown as AgentInputItem;
    const unnamedOutput = { type: 'function_call_result', callId: '' } as unknown as AgentInputItem;
    const unpaired = [user('u1'), assistant('a1'), user('u2'), assistant('a2'), unnamedCall, user('u3'), unnamedOutput, user('u4'), assistant('a4')];
    expect(planSummary(unpaired)?.older).toHaveLength(5);
    const repeated = [user('u1'), assistant('a1'), call('dup'), user('u2'), call('dup'), user('u3'), result('dup', 'r'), user('u4'), assistant('a4')];
    expect(planSummary(repeated, { minOlderItems: 1 })?.older).toEqual([user('u1'), assistant('a1')]);
  });

  it('with no user message summarizes everything; with fewer exchanges than asked it keeps from the first user message', () => {
    const noUser = [assistant('a'), assistant('b'), assistant('c')];
    expect(planSummary(noUser)).toEqual({ older: noUser, kept: [] });
    const oneExchange = [assistant('a'), assistant('b'), assistant('c'), user('u'), assistant('d')];
    expect(planSummary(oneExchange)).toEqual({ older: oneExchange.slice(0, 3), kept: oneExchange.slice(3) });
  });

  it('skips when keeping a call with its output leaves too little to summarize', () => {
    const items = [user('q1'), call('x'), user('q2'), result('x', 'r'), assistant('a2'), user('q3'), assistant('a3')];
    expect(planSummary(items)).toBeNull();
  });

  it('treats several user messages sent together as one exchange', () => {
    const items = [...exchange(1), user('part one'), user('part two'), assistant('both parts'), ...exchange(3)];
    const plan = planSummary(items);
    expect(plan?.older).toEqual(exchange(1));
    expect(plan?.kept[0]).toEqual(user('part one'));
  });

  it('folds an existing summary at the front into the items to summarize', () => {
    const previous = makeSummaryItem('The user is cleaning a CSV file.');
    const items = [previous, ...exchange(5), ...exchange(6), ...exchange(7)];
    const plan = planSummary(items);
    expect(plan?.older[0]).toEqual(previous);
    expect(plan?.older.slice(1)).toEqual(exchange(5));
    expect(plan?.kept).toEqual([...exchange(6), ...exchange(7)]);
  });

  it('does not take a user message that starts like a summary for one', () => {
    expect(isSummaryItem(user(`${SUMMARY_PREFIX}: I typed this myself`))).toBe(false);
    expect(isSummaryItem({ role: 'system', content: [{ type: 'input_text', text: SUMMARY_PREFIX }] } as unknown as AgentInputItem)).toBe(false);
  });

  it('marks summary items recognisably and reads their text back', () => {
    const item = makeSummaryItem('  Goals: ship v1.  ');
    expect(item.role).toBe('system');
    expect(item.content.startsWith(SUMMARY_PREFIX)).toBe(true);
    expect(isSummaryItem(item)).toBe(true);
    expect(summaryText(item)).toBe('Goals: ship v1.');
    expect(isSummaryItem({ role: 'system', content: 'You are a helpful assistant.' })).toBe(false);
    expect(isSummaryItem(user(`${SUMMARY_PREFIX}: not really`))).toBe(false);
  });
});
