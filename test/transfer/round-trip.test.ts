/**
 * Export: Pulp's JSON file gives back an identical tree on import (rows, parents, active leaf,
 * model context and the row each item hangs on); Markdown shows the active path.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient } from '../chat/harness.js';
import type { Queryable } from '../../src/db/database.js';
import { fixture, sessionUuid, startTransferServer, type TransferServer } from './support.js';

let t: TransferServer;
beforeAll(async () => {
  t = await startTransferServer();
});
afterAll(async () => {
  await t?.close();
});

/** A session's tree with ids replaced by row positions, so two copies compare equal. */
async function treeShape(db: Queryable, publicId: string) {
  const uuid = await sessionUuid(db, publicId);
  const { rows } = await db.query<Record<string, unknown> & { id: string; parent_id: string | null; role: string }>(
    `SELECT id, parent_id, seq, role, content, reasoning, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, created_at
     FROM messages WHERE session_id = $1 ORDER BY seq`,
    [uuid],
  );
  const position = new Map(rows.map((r, i) => [r.id, i]));
  const { rows: items } = await db.query<{ item: unknown; message_id: string | null; summary_through_seq: number | null }>(
    'SELECT item, message_id, summary_through_seq FROM llm_context WHERE session_id = $1 ORDER BY seq',
    [uuid],
  );
  const { rows: [session] } = await db.query<Record<string, unknown> & { active_leaf_id: string | null }>(
    'SELECT title, is_named, model, reasoning_effort, mcp_config, message_count, active_leaf_id, created_at FROM sessions WHERE id = $1',
    [uuid],
  );
  return {
    session: { ...session, active_leaf_id: session!.active_leaf_id === null ? null : position.get(session!.active_leaf_id) },
    rows: rows.map(({ id: _id, parent_id, ...rest }) => ({ ...rest, parent: parent_id === null ? null : position.get(parent_id) })),
    items: items.map((i) => ({ ...i, message_id: i.message_id === null ? null : position.get(i.message_id) })),
  };
}

async function exportJson(publicId: string) {
  const res = await fetch(`${t.server.baseUrl}/api/v1/sessions/${publicId}/export?format=json`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8');
  return { disposition: res.headers.get('content-disposition'), doc: (await res.json()) as Record<string, unknown> };
}

async function importBack(doc: unknown): Promise<string> {
  const res = await t.api('POST', '/sessions/import', doc);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.session_ids[0] as string;
}

describe('export → import', () => {
  it('gives back an identical branched tree', async () => {
    const { body } = await t.api('POST', '/sessions/import', fixture('chatgpt-conversations.json'));
    const original = body.session_ids[0] as string;
    const { doc, disposition } = await exportJson(original);
    expect(doc).toMatchObject({ format: 'pulp.session', version: 1 });
    expect(disposition).toMatch(/^attachment; filename="pulp-packing-for-lisbon-\d{4}-\d{2}-\d{2}\.json"/);
    const copy = await importBack(doc);
    expect(copy).not.toBe(original);
    expect(await treeShape(t.server.database.db, copy)).toEqual(await treeShape(t.server.database.db, original));
  });

  it('keeps a chat made by real turns: tool calls, reasoning and the model context', async () => {
    const created = await t.api('POST', '/sessions', { title: 'Made here', reasoning_effort: 'low' });
    const id = created.body.session_id as string;
    t.fake.setHandler(undefined);
    t.fake.enqueue(
      { steps: [{ type: 'reasoning', text: 'look first' }, { type: 'text', deltas: ['Looking.'] }, { type: 'tool_call', name: 'list_directory', arguments: { path: '.' }, callId: 'call_ls' }] },
      { steps: [{ type: 'text', deltas: ['Two folders.'] }] },
    );
    const client = await TestClient.open(`${t.server.wsUrl}/ws/chat/${id}`);
    client.message('What is in my workspace?');
    await client.turn(0);
    client.ws.terminate();
    t.fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['Noted.'] }] }));

    const copy = await importBack((await exportJson(id)).doc);
    const [a, b] = [await treeShape(t.server.database.db, id), await treeShape(t.server.database.db, copy)];
    expect(b).toEqual(a);
    expect(a.rows.map((r) => r.role)).toEqual(['user', 'assistant', 'tool_call', 'assistant']);
    expect(a.items.map((i) => (i.item as { type: string }).type)).toEqual(['message', 'reasoning', 'message', 'function_call', 'function_call_result', 'message']);
    expect(b.session).toMatchObject({ title: 'Made here', reasoning_effort: 'low', model: 'gpt-4o-mini' });
  });

  it("keeps a question's attachments and a tool call's approval record", async () => {
    const { body } = await t.api('POST', '/sessions/import', fixture('open-webui-chats.json'));
    const id = body.session_ids[0] as string;
    const db = t.server.database.db;
    const uuid = await sessionUuid(db, id);
    const attachments = [{ file: 'input/photo.png', content_type: 'image/png', size: 2048 }];
    const approval = { decision: 'approved', by: 'ada@example.com', at: '2026-12-06T10:00:00.000Z', reason: null, expires_at: '2026-12-06T11:00:00.000Z' };
    await db.query(`UPDATE messages SET metadata = metadata || $2::jsonb WHERE session_id = $1 AND role = 'user'`, [uuid, { attachments }]);
    await db.query(`UPDATE messages SET metadata = metadata || $2::jsonb WHERE session_id = $1 AND role = 'tool_call'`, [uuid, { approval }]);

    const copy = await importBack((await exportJson(id)).doc);
    const shape = await treeShape(db, copy);
    expect(shape).toEqual(await treeShape(db, id));
    const metadataOf = (role: string) => shape.rows.filter((r) => r.role === role).map((r) => (r as { metadata?: unknown }).metadata);
    expect(metadataOf('user')).toContainEqual({ attachments });
    expect(metadataOf('tool_call')).toContainEqual({ approval });
  });

  it('exports the active path as Markdown, tool calls in fences', async () => {
    const { body } = await t.api('POST', '/sessions/import', fixture('chatgpt-conversations.json'));
    const res = await fetch(`${t.server.baseUrl}/api/v1/sessions/${body.session_ids[0]}/export?format=markdown`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/markdown; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/filename="pulp-packing-for-lisbon-.*\.md"/);
    const md = await res.text();
    expect(md).toMatch(/^# Packing for Lisbon\n/);
    expect(md).toContain('## User\n\n[image not imported]\n\nHere is my suitcase.');
    expect(md).toContain('## Assistant\n\n> Summer in Lisbon\n> July is hot and dry');
    expect(md).toContain('JULY-BRANCH-ANSWER');
    expect(md).not.toContain('MARCH-BRANCH-ANSWER');

    const { body: ow } = await t.api('POST', '/sessions/import', fixture('open-webui-chats.json'));
    const owMd = await (await fetch(`${t.server.baseUrl}/api/v1/sessions/${ow.session_ids[0]}/export?format=markdown`)).text();
    expect(owMd).toContain('### Tool: get_temperature\n\n```json\n{\n  "room": "kitchen"\n}\n```\n\nResult:\n\n```\n"21C"\n```');
  });

  it('answers 404 for a session that is not yours, 422 for an unknown format', async () => {
    expect((await t.api('GET', '/sessions/chat_000000000000/export')).status).toBe(404);
    const created = await t.api('POST', '/sessions', { title: 'x' });
    const res = await t.api('GET', `/sessions/${created.body.session_id}/export?format=pdf`);
    expect(res.status).toBe(422);
    expect(res.body.error.code).toBe('VAL_2001');
  });
});
