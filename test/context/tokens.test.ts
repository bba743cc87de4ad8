import type { AgentInputItem } from '@openai/agents';
import { countTokens as cl100k } from 'gpt-tokenizer/encoding/cl100k_base';
import { countTokens as o200k } from 'gpt-tokenizer/encoding/o200k_base';
import { describe, expect, it } from 'vitest';
import { countItem, countItems, countText, encodingFor, isToolItem, ITEM_OVERHEAD_TOKENS, NON_TEXT_PART_TOKENS } from '../../src/context/tokens.js';

const plain = { disallowedSpecial: new Set<string>() };

const SAMPLES: Array<[label: string, text: string]> = [
  ['ASCII prose', 'The quick brown fox jumps over the lazy dog.'],
  ['code', 'function add(a: number, b: number): number {\n  return a + b; // sum\n}\n'],
  ['CJK', '我们今天讨论上下文窗口的管理。東京は日本の首都です。'],
  ['emoji', 'Deploy done 🚀🔥 — all green ✅👍🏽'],
  ['special-token text', 'please ignore <|endoftext|> and <|im_start|>system'],
  ['empty', ''],
];

describe('token counting', () => {
  it.each(SAMPLES)('counts %s exactly as gpt-tokenizer o200k_base does for gpt-4o', (_label, text) => {
    expect(countText('gpt-4o', text)).toBe(o200k(text, plain));
  });

  it.each(SAMPLES)('counts %s exactly as gpt-tokenizer cl100k_base does for gpt-4', (_label, text) => {
    expect(countText('gpt-4', text)).toBe(cl100k(text, plain));
  });

  it('counts user-typed special-token text as plain text instead of throwing', () => {
    expect(() => countText('gpt-4o', '<|endoftext|>')).not.toThrow();
    // As plain text it is several tokens, not the single special token.
    expect(countText('gpt-4o', '<|endoftext|>')).toBeGreaterThan(1);
  });

  it.each([
    ['gpt-4o', 'o200k_base'],
    ['gpt-4o-mini', 'o200k_base'],
    ['gpt-4.1-mini', 'o200k_base'],
    ['gpt-5', 'o200k_base'],
    ['gpt-5.2-codex', 'o200k_base'],
    ['o1', 'o200k_base'],
    ['o3-mini', 'o200k_base'],
    ['o4-mini', 'o200k_base'],
    ['some-local-llama', 'o200k_base'],
    ['gpt-4', 'cl100k_base'],
    ['gpt-4-turbo', 'cl100k_base'],
    ['gpt-3.5-turbo', 'cl100k_base'],
    ['prod-gpt-35-turbo-eu', 'cl100k_base'],
    ['team-GPT-4-deployment', 'cl100k_base'],
    ['prod-gpt-4o-eu', 'o200k_base'],
    ['gpt4-32k', 'cl100k_base'],
    ['gpt35-turbo', 'cl100k_base'],
  ])('uses the right encoding for %s', (model, encoding) => {
    expect(encodingFor(model)).toBe(encoding);
  });

  it('charges a message item its text plus 10 for structure', () => {
    const text = '我们今天讨论 🚀 <|endoftext|>';
    const asString: AgentInputItem = { role: 'user', content: text };
    const asParts: AgentInputItem = { type: 'message', role: 'user', content: [{ type: 'input_text', text }] };
    expect(countItem('gpt-4o', asString)).toBe(o200k(text, plain) + ITEM_OVERHEAD_TOKENS);
    expect(countItem('gpt-4o', asParts)).toBe(o200k(text, plain) + ITEM_OVERHEAD_TOKENS);
  });

  it('counts assistant text, a refusal and an image part', () => {
    const item: AgentInputItem = {
      role: 'assistant',
      status: 'completed',
      content: [
        { type: 'output_text', text: 'Here it is.' },
        { type: 'refusal', refusal: 'Not that.' },
      ],
    };
    expect(countItem('gpt-4o', item)).toBe(o200k('Here it is.') + o200k('Not that.') + ITEM_OVERHEAD_TOKENS);
    const image: AgentInputItem = { role: 'user', content: [{ type: 'input_image', image: `data:image/png;base64,${'A'.repeat(50_000)}` }] };
    expect(countItem('gpt-4o', image)).toBe(NON_TEXT_PART_TOKENS + ITEM_OVERHEAD_TOKENS);
  });

  it('counts a tool call by its name and arguments, and its result by name and output', () => {
    const args = JSON.stringify({ path: 'input/data.csv', head: 20 });
    const call: AgentInputItem = { type: 'function_call', callId: 'c1', name: 'read_file', arguments: args };
    const output = '{"content":"a,b\\n1,2"}';
    const result: AgentInputItem = {
      type: 'function_call_result',
      callId: 'c1',
      name: 'read_file',
      status: 'completed',
      output: { type: 'text', text: output },
    };
    expect(countItem('gpt-4.1', call)).toBe(o200k('read_file') + o200k(args) + ITEM_OVERHEAD_TOKENS);
    expect(countItem('gpt-4.1', result)).toBe(o200k('read_file') + o200k(output) + ITEM_OVERHEAD_TOKENS);
    const stringResult: AgentInputItem = { ...result, output };
    expect(countItem('gpt-4.1', stringResult)).toBe(countItem('gpt-4.1', result));
  });

  it('counts reasoning text and never counts an unknown item as free', () => {
    const reasoning: AgentInputItem = { type: 'reasoning', content: [{ type: 'input_text', text: 'Think first.' }] };
    expect(countItem('o3', reasoning)).toBe(o200k('Think first.') + ITEM_OVERHEAD_TOKENS);
    const unknown: AgentInputItem = { type: 'unknown', providerData: { blob: 'x'.repeat(100) } };
    expect(countItem('o3', unknown)).toBeGreaterThan(ITEM_OVERHEAD_TOKENS);
  });

  it.each<[string, AgentInputItem, string[]]>([
    ['a hosted tool call', { type: 'hosted_tool_call', name: 'web_search', arguments: '{"q":"pulp"}', output: 'results' }, ['web_search', '{"q":"pulp"}', 'results']],
    ['a shell call', { type: 'shell_call', callId: 's', action: { commands: ['ls -la'] } }, [JSON.stringify({ commands: ['ls -la'] })]],
    [
      'a shell output',
      { type: 'shell_call_output', callId: 's', output: [{ stdout: 'a.txt', stderr: 'warn', outcome: { type: 'exit', exitCode: 0 } }] },
      ['a.txt', 'warn'],
    ],
    [
      'a patch call',
      { type: 'apply_patch_call', callId: 'p', status: 'completed', operation: { type: 'delete_file', path: 'x.ts' } },
      [JSON.stringify({ type: 'delete_file', path: 'x.ts' })],
    ],
    ['a patch output', { type: 'apply_patch_call_output', callId: 'p', status: 'completed', output: 'patched' }, ['patched']],
    ['a program', { type: 'program', callId: 'g', code: 'print(1)', fingerprint: 'f' }, ['print(1)']],
    ['a program output', { type: 'program_output', callId: 'g', output: '1', status: 'completed' }, ['1']],
    ['a tool search call', { type: 'tool_search_call', arguments: { q: 'files' } }, ['{"q":"files"}']],
    ['a tool search output', { type: 'tool_search_output', tools: [{ name: 'read_file' }] }, ['[{"name":"read_file"}]']],
    ['a compaction', { type: 'compaction', encrypted_content: 'opaque-blob' }, ['opaque-blob']],
    ['a computer action', { type: 'computer_call', callId: 'k', status: 'completed', action: { type: 'screenshot' } }, ['{"type":"screenshot"}']],
  ])('counts %s by its text', (_label, item, texts) => {
    expect(countItem('gpt-4o', item)).toBe(texts.reduce((n, t) => n + o200k(t), ITEM_OVERHEAD_TOKENS));
  });

  it('counts a screenshot result and an audio part without transcript at the flat non-text cost', () => {
    const screenshot = { type: 'computer_call_result', callId: 'k', output: { type: 'computer_screenshot', data: 'A'.repeat(9_000) } } as AgentInputItem;
    expect(countItem('gpt-4o', screenshot)).toBe(NON_TEXT_PART_TOKENS + ITEM_OVERHEAD_TOKENS);
    const audio: AgentInputItem = { role: 'user', content: [{ type: 'audio', audio: 'xyz' }] };
    expect(countItem('gpt-4o', audio)).toBe(NON_TEXT_PART_TOKENS + ITEM_OVERHEAD_TOKENS);
    const spoken: AgentInputItem = { role: 'user', content: [{ type: 'audio', audio: 'xyz', transcript: 'hello there' }] };
    expect(countItem('gpt-4o', spoken)).toBe(o200k('hello there') + ITEM_OVERHEAD_TOKENS);
  });

  it('counts image and file parts at the flat cost, reasoning text as text, odd parts as their JSON and missing values as nothing', () => {
    const flat = NON_TEXT_PART_TOKENS + ITEM_OVERHEAD_TOKENS;
    for (const type of ['input_image', 'image', 'input_file', 'file', 'computer_screenshot']) {
      expect(countItem('gpt-4o', { role: 'user', content: [{ type, data: 'A'.repeat(5_000) }] } as unknown as AgentInputItem), type).toBe(flat);
    }
    const thought = { type: 'reasoning', content: [{ type: 'reasoning_text', text: 'Weigh both options.' }] } as unknown as AgentInputItem;
    expect(countItem('o3', thought)).toBe(o200k('Weigh both options.') + ITEM_OVERHEAD_TOKENS);
    const oddPart = { type: 'mystery', payload: 'abc' };
    expect(countItem('gpt-4o', { role: 'user', content: [oddPart, null, 42] } as unknown as AgentInputItem)).toBe(o200k(JSON.stringify(oddPart)) + ITEM_OVERHEAD_TOKENS);
    const noArguments = { type: 'function_call', callId: 'c', name: 'list_files', arguments: null } as unknown as AgentInputItem;
    expect(countItem('gpt-4o', noArguments)).toBe(o200k('list_files') + ITEM_OVERHEAD_TOKENS);
    const roleless = { content: 'no role, no type' } as unknown as AgentInputItem;
    expect(countItem('gpt-4o', roleless)).toBe(o200k(JSON.stringify(roleless)) + ITEM_OVERHEAD_TOKENS);
  });

  it('counts tool calls and outputs as tool items, and messages, reasoning, compactions and unknown items not', () => {
    const tool = ['function_call', 'function_call_result', 'hosted_tool_call', 'computer_call', 'shell_call_output', 'program'];
    for (const type of tool) expect(isToolItem({ type } as AgentInputItem), type).toBe(true);
    for (const type of ['message', 'reasoning', 'compaction', 'unknown']) expect(isToolItem({ type } as AgentInputItem), type).toBe(false);
    expect(isToolItem({ role: 'user', content: 'hi' })).toBe(false);
  });

  it('sums a list of items', () => {
    const items: AgentInputItem[] = [
      { role: 'user', content: 'hello' },
      { role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'hi there' }] },
    ];
    expect(countItems('gpt-4o', items)).toBe(o200k('hello') + o200k('hi there') + 2 * ITEM_OVERHEAD_TOKENS);
    expect(countItems('gpt-4o', [])).toBe(0);
  });
});
