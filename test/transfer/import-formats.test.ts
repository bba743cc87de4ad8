/**
 * Importing real-format files (test/fixtures/import) through `POST /sessions/import`, then a turn
 * on the imported session: the fake model's request holds the imported active path and nothing
 * of the other branch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chatOnce, fixture, fixtureBytes, inputTexts, startTransferServer, storedTree, type TransferServer } from './support.js';

/** `expected` appear in `actual` in this order (other items may come between). */
function expectInOrder(actual: string[], expected: string[]): void {
  let at = 0;
  for (const text of actual) if (text === expected[at]) at += 1;
  expect(at, `in order: ${JSON.stringify(expected)}\nin: ${JSON.stringify(actual)}`).toBe(expected.length);
}

let t: TransferServer;
beforeAll(async () => {
  t = await startTransferServer();
});
afterAll(async () => {
  await t?.close();
});

async function importJson(body: unknown): Promise<string[]> {
  const res = await t.api('POST', '/sessions/import', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.session_ids as string[];
}

describe('a ChatGPT conversations.json', () => {
  it('becomes one session per conversation, the mapping kept as a tree with current_node as the active leaf', async () => {
    const [lisbon, haiku] = await importJson(fixture('chatgpt-conversations.json'));
    const session = (await t.api('GET', `/sessions/${lisbon}`)).body.session;
    expect(session).toMatchObject({ title: 'Packing for Lisbon', is_named: true, message_count: 7 });
    expect(session.created_at).toBe('2024-12-06T15:46:40.123Z');

    const { rows, path } = await storedTree(t.server.database.db, lisbon!);
    // Null, system and hidden nodes are skipped; the first kept message is the root.
    expect(rows.filter((r) => r.parent_id === null)).toHaveLength(1);
    expect(path.map((r) => r.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
    expect(path[0]!.content).toBe('[image not imported]\n\nHere is my suitcase. What should I pack for Lisbon in March?');
    expect(path[3]!.content).toContain('JULY-BRANCH-ANSWER');
    expect(path[3]!.reasoning).toContain('July is hot and dry');
    // The other branch: its question, the Python call with its output as one tool row, its answer.
    const answer = path[1]!;
    const siblings = rows.filter((r) => r.parent_id === answer.id);
    expect(siblings.map((r) => r.content)).toEqual(['How warm is it in March? Work it out from the monthly averages.', 'Actually, I am going in July. What changes?']);
    const tool = rows.find((r) => r.role === 'tool_call')!;
    expect(tool).toMatchObject({ tool_name: 'python', tool_arguments: { input: 'print((17 + 19) / 2)' }, tool_result: '18.0', parent_id: siblings[0]!.id });
    // Rows are in creation order, parents first.
    const times = rows.map((r) => r.created_at.getTime());
    expect([...times].sort((a, b) => a - b)).toEqual(times);

    expect((await storedTree(t.server.database.db, haiku!)).path.map((r) => r.content)).toEqual([
      'Write a haiku about rain.',
      'Soft rain on tin roofs\nthe street hums a quiet song\npuddles hold the sky',
    ]);
  });

  const activePath = [
    'user: [image not imported]\n\nHere is my suitcase. What should I pack for Lisbon in March?',
    'assistant: Pack layers: a light jacket, an umbrella and comfortable shoes for the hills.',
    'user: Actually, I am going in July. What changes?',
    'assistant: Swap the umbrella for sunscreen and a hat: JULY-BRANCH-ANSWER.',
    'user: And in August?',
  ];

  it('chats normally afterwards: the model gets the imported active path', async () => {
    const [lisbon] = await importJson(fixture('chatgpt-conversations.json'));
    expectInOrder(inputTexts(await chatOnce(t, lisbon!, 'And in August?')), activePath);
  });

  it('sends the model nothing of the other branch', async () => {
    const [lisbon] = await importJson(fixture('chatgpt-conversations.json'));
    const request = await chatOnce(t, lisbon!, 'And in August?');
    expect(inputTexts(request)).toEqual(activePath);
    expect(JSON.stringify(request.body)).not.toContain('MARCH-BRANCH-ANSWER');
    expect(JSON.stringify(request.body)).not.toContain('print((17 + 19) / 2)');
  });
});

describe('a large file', () => {
  it('is read beyond the 1 MiB of other JSON routes, up to IMPORT_MAX_BYTES', async () => {
    const long = (c: string) => c.repeat(800_000);
    const file = [{ title: 'Long paste', create_time: 1_700_000_000, current_node: 'b', mapping: {
      a: { parent: null, message: { author: { role: 'user' }, content: { content_type: 'text', parts: [long('a')] } } },
      b: { parent: 'a', message: { author: { role: 'assistant' }, content: { content_type: 'text', parts: [long('b')] } } },
    } }];
    const [id] = await importJson(file);
    const { path } = await storedTree(t.server.database.db, id!);
    expect(path.map((r) => r.content?.length)).toEqual([800_000, 800_000]);
  });
});

describe("an Open WebUI chat export", () => {
  it('keeps both branches, follows currentId, and turns reasoning and tool blocks into rows', async () => {
    const [sourdough, greeting] = await importJson(fixture('open-webui-chats.json'));
    const { rows, path } = await storedTree(t.server.database.db, sourdough!);
    expect(rows).toHaveLength(7);
    expect(path.map((r) => r.role)).toEqual(['user', 'assistant', 'user', 'tool_call', 'assistant']);
    expect(path[0]!.content).toBe('[image not imported]\n\nMy starter smells like nail polish. Is it dead?');
    expect(path[1]).toMatchObject({ content: 'It is hungry, not dead: feed it twice a day for a few days.', reasoning: 'Acetone smell means the starter is hungry, not dead.' });
    expect(path[3]).toMatchObject({ tool_name: 'get_temperature', tool_arguments: { room: 'kitchen' }, tool_result: '"21C"' });
    expect((await storedTree(t.server.database.db, greeting!)).path.map((r) => r.content)).toEqual(['Hello', 'Hi there! How can I help?']);

    const request = await chatOnce(t, sourdough!, 'Thanks!');
    const expected = [
      'user: [image not imported]\n\nMy starter smells like nail polish. Is it dead?',
      'assistant: It is hungry, not dead: feed it twice a day for a few days.',
      'user: How warm should the kitchen be?',
      'call get_temperature {"room":"kitchen"}',
      'output "21C"',
      'assistant: Your kitchen is at 21C, which is ideal: OWUI-CURRENT-ANSWER.',
      'user: Thanks!',
    ];
    expectInOrder(inputTexts(request), expected);
    expect(inputTexts(request)).toEqual(expected);
    expect(JSON.stringify(request.body)).not.toContain('OWUI-OLD-BRANCH');
  });

  it('reads a single chat object too', async () => {
    const [one] = fixture('open-webui-chats.json') as unknown[];
    const ids = await importJson(one);
    expect(ids).toHaveLength(1);
  });
});

describe('a LibreChat export', () => {
  it('reads the recursive form as a tree whose newest leaf is active, agent parts as rows', async () => {
    const [id] = await importJson(fixture('librechat-tree.json'));
    const { rows, path } = await storedTree(t.server.database.db, id!);
    expect(rows).toHaveLength(6);
    expect(path.map((r) => r.role)).toEqual(['user', 'assistant', 'tool_call', 'assistant', 'user']);
    expect(path[1]).toMatchObject({ content: 'Let me test it first.', reasoning: 'Months go up to 12 and days to 31.' });
    expect(path[2]).toMatchObject({ tool_name: 'run_regex', tool_result: 'match' });
    expect(path[4]!.content).toBe('[attachment not imported]\n\nThanks, that works.');

    const request = await chatOnce(t, id!, 'One more: times?');
    expect(JSON.stringify(request.body)).toContain('LIBRE-SECOND-TRY');
    expect(JSON.stringify(request.body)).not.toContain('LIBRE-FIRST-TRY');
  });

  it('reads the flat form linked by parentMessageId, sent as a multipart file', async () => {
    const form = new FormData();
    form.append('file', new Blob([new Uint8Array(fixtureBytes('librechat-flat.json'))], { type: 'application/json' }), 'librechat-flat.json');
    const res = await fetch(`${t.server.baseUrl}/api/v1/sessions/import`, { method: 'POST', body: form });
    expect(res.status).toBe(201);
    const { session_ids: [id] } = (await res.json()) as { session_ids: string[] };
    const { path } = await storedTree(t.server.database.db, id!);
    expect(path.map((r) => r.content)).toEqual(['What water temperature for green tea?', 'About 75 to 80 degrees Celsius: TEA-ANSWER.']);
    const request = await chatOnce(t, id!, 'And black tea?');
    expect(inputTexts(request)).toEqual(['user: What water temperature for green tea?', 'assistant: About 75 to 80 degrees Celsius: TEA-ANSWER.', 'user: And black tea?']);
  });
});
