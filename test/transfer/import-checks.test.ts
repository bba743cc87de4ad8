/**
 * What a bad or hostile import file gets, before anything is written: the checks of
 * `readImportFile` and `prepareImport`, each naming what is wrong and where.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../src/errors/app-error.js';
import { readImportFile } from '../../src/transfer/detect.js';
import { prepareImport } from '../../src/transfer/import-writer.js';
import { MAX_DEPTH, MAX_NODES_PER_CONVERSATION, MAX_TEXT_CHARS } from '../../src/transfer/model.js';

const deps = {
  models: ['gpt-4o-mini'],
  defaultModel: 'gpt-4o-mini',
  mcp: { unknownNames: (names: string[]) => names.filter((n) => n !== 'fetch'), defaultNames: () => ['fetch'] },
};

type Node = { id: string; parent: string | null; role?: string; text?: string };
const message = (role: string, text: string) => ({ author: { role }, create_time: 1_700_000_000, content: { content_type: 'text', parts: [text] } });
function chatgpt(nodes: Node[], current: string | null = null, title = 'Test') {
  return [{ title, create_time: 1_700_000_000, current_node: current, mapping: Object.fromEntries(nodes.map((n) => [n.id, { id: n.id, parent: n.parent, message: message(n.role ?? 'user', n.text ?? `text of ${n.id}`) }])) }];
}

async function refusal(file: unknown): Promise<AppError> {
  try {
    await prepareImport(readImportFile(file).conversations, deps);
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('the file was accepted');
}

describe('an import file is refused, naming what and where', () => {
  it('a parent that does not exist', async () => {
    const err = await refusal(chatgpt([{ id: 'a', parent: null }, { id: 'b', parent: 'zzz' }]));
    expect(err.code).toBe('VAL_2033');
    expect(err.message).toBe('The import file is not valid: conversation 1 (Test), node b: parent zzz does not exist');
  });

  it('parent links that form a cycle', async () => {
    const err = await refusal(chatgpt([{ id: 'root', parent: null }, { id: 'x', parent: 'y' }, { id: 'y', parent: 'x' }]));
    expect(err.code).toBe('VAL_2033');
    expect(err.message).toMatch(/conversation 1 \(Test\), node [xy]: .*cycle/);
  });

  it('a message that is its own parent', async () => {
    expect((await refusal(chatgpt([{ id: 'a', parent: 'a' }]))).message).toContain('node a: it is its own parent');
  });

  it('a current node that does not exist', async () => {
    expect((await refusal(chatgpt([{ id: 'a', parent: null }], 'nope'))).message).toContain('the current message nope does not exist');
  });

  it('a tree deeper than the limit (the recursive LibreChat form, read without recursion)', async () => {
    let tree: Record<string, unknown> = { messageId: 'leaf', text: 'end', isCreatedByUser: true, children: [] };
    for (let i = 0; i < MAX_DEPTH + 5; i++) tree = { messageId: `m${i}`, text: 'hi', isCreatedByUser: i % 2 === 0, children: [tree] };
    const err = await refusal({ conversationId: 'c', title: 'Deep', recursive: true, messagesTree: [tree] });
    expect(err.code).toBe('VAL_2034');
    expect(err.message).toContain(`deeper than ${MAX_DEPTH} messages`);
  });

  it('more messages than a conversation may hold', async () => {
    const nodes = Array.from({ length: MAX_NODES_PER_CONVERSATION + 1 }, (_, i) => ({ id: `n${i}`, parent: i === 0 ? null : `n${i - 1}` }));
    const err = await refusal(chatgpt(nodes));
    expect(err.code).toBe('VAL_2034');
    expect(err.message).toContain(`at most ${MAX_NODES_PER_CONVERSATION}`);
  });

  it('a text longer than the limit', async () => {
    const err = await refusal(chatgpt([{ id: 'big', parent: null, text: 'x'.repeat(MAX_TEXT_CHARS + 1) }]));
    expect(err.code).toBe('VAL_2034');
    expect(err.message).toContain('node big: the text is 1000001 characters long');
  });

  it('text PostgreSQL cannot store (U+0000, a lone surrogate)', async () => {
    expect((await refusal(chatgpt([{ id: 'nul', parent: null, text: 'a\u0000b' }]))).message).toContain('node nul: the text must not contain the NUL character');
    expect((await refusal(chatgpt([{ id: 'sur', parent: null, text: 'a\ud800b' }]))).message).toContain('node sur: the text must not contain an unpaired UTF-16 surrogate');
  });

  it('a node of the wrong shape, with the path inside it', async () => {
    const file = [{ title: 'Shape', mapping: { a: { parent: null, message: { author: 'user' } } } }];
    const err = await refusal(file);
    expect(err.code).toBe('VAL_2033');
    expect(err.message).toMatch(/^The import file is not valid: conversation 1, node a, message\.author: /);
  });

  it('a file in no known format, or mixing formats', async () => {
    expect((await refusal({ hello: 'world' })).code).toBe('VAL_2032');
    expect((await refusal([])).message).toContain('no conversations');
    const mixed = await refusal([...chatgpt([{ id: 'a', parent: null }]), { conversationId: 'x', messages: [] }]);
    expect(mixed.message).toContain('conversation 2: it is not in the format of the first conversation (chatgpt)');
  });

  it('a Pulp file of another version, or whose context hangs on a missing message', async () => {
    const doc = { format: 'pulp.session', version: 1, session: { title: 't', created_at: '2026-01-01T00:00:00.000Z', active_leaf_id: null }, messages: [], context: [{ message_id: 'ghost', item: { type: 'message', role: 'user', content: 'hi' } }] };
    expect((await refusal({ ...doc, version: 2 })).code).toBe('VAL_2032');
    expect((await refusal(doc)).message).toContain('conversation 1, context item 1: message ghost does not exist');
    const odd = { ...doc, context: [{ message_id: null, item: { type: 'computer_call' } }] };
    expect((await refusal(odd)).message).toContain('context.0.item.type');
  });
});

describe('what is kept', () => {
  it('skipped nodes pass their children to the nearest kept ancestor; times order the rows', async () => {
    const file = chatgpt([
      { id: 'q', parent: null, role: 'user', text: 'question' },
      { id: 'sys', parent: 'q', role: 'system', text: 'hidden' },
      { id: 'a', parent: 'sys', role: 'assistant', text: 'answer' },
    ]);
    const [prepared] = await prepareImport(readImportFile(file).conversations, deps);
    expect(prepared!.tree.rows.map((r) => [r.row.content, r.parent])).toEqual([
      ['question', null],
      ['answer', 0],
    ]);
    expect(prepared!.tree.activeLeaf).toBe(1);
    expect(prepared!.mcpConfig).toEqual(['fetch']);
  });
});
