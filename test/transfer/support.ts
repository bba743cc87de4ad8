/** A real server whose model is the fake OpenAI server, and helpers to import, read trees and chat. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { TestClient } from '../chat/harness.js';
import type { Queryable } from '../../src/db/database.js';

export const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/import');
export const fixture = (name: string): unknown => JSON.parse(readFileSync(path.join(FIXTURES, name), 'utf8'));
export const fixtureBytes = (name: string): Buffer => readFileSync(path.join(FIXTURES, name));

export interface TransferServer {
  fake: FakeOpenAI;
  server: TestServer;
  api: ReturnType<typeof apiClient>;
  close(): Promise<void>;
}

export async function startTransferServer(env: Record<string, string> = {}): Promise<TransferServer> {
  const fake = await startFakeOpenAI();
  fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['Noted.'] }] }));
  const server = await startTestServer({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    OPENAI_API_MODE: 'responses',
    DEFAULT_MODEL: 'gpt-4o-mini',
    MODELS: 'gpt-4o-mini,gpt-4o',
    ...env,
  });
  return {
    fake,
    server,
    api: apiClient(server.baseUrl),
    async close() {
      await server.close();
      await fake.close();
    },
  };
}

export interface StoredRow {
  id: string;
  seq: number;
  parent_id: string | null;
  role: string;
  content: string | null;
  reasoning: string | null;
  tool_name: string | null;
  tool_arguments: Record<string, unknown> | null;
  tool_result: string | null;
  created_at: Date;
}

export async function sessionUuid(db: Queryable, publicId: string): Promise<string> {
  const { rows } = await db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [publicId]);
  if (!rows[0]) throw new Error(`no session ${publicId}`);
  return rows[0].id;
}

/** Every row of a session in seq order, and the active path's rows (root first). */
export async function storedTree(db: Queryable, publicId: string): Promise<{ rows: StoredRow[]; path: StoredRow[]; leaf: string | null }> {
  const uuid = await sessionUuid(db, publicId);
  const { rows } = await db.query<StoredRow>(
    'SELECT id, seq, parent_id, role, content, reasoning, tool_name, tool_arguments, tool_result, created_at FROM messages WHERE session_id = $1 ORDER BY seq',
    [uuid],
  );
  const { rows: s } = await db.query<{ active_leaf_id: string | null }>('SELECT active_leaf_id FROM sessions WHERE id = $1', [uuid]);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const path: StoredRow[] = [];
  for (let at = byId.get(s[0]?.active_leaf_id ?? ''); at; at = at.parent_id ? byId.get(at.parent_id) : undefined) path.unshift(at);
  return { rows: rows.map((r) => ({ ...r, seq: Number(r.seq) })), path, leaf: s[0]?.active_leaf_id ?? null };
}

/** Rows in the tables an import writes, to show that a refused file wrote nothing. */
export async function rowCounts(db: Queryable): Promise<Record<string, number>> {
  const { rows } = await db.query<Record<string, number>>(
    `SELECT (SELECT count(*)::int FROM sessions) AS sessions, (SELECT count(*)::int FROM messages) AS messages,
            (SELECT count(*)::int FROM llm_context) AS context`,
  );
  return rows[0]!;
}

/** Sends one message on the session and resolves with the model request of that turn. */
export async function chatOnce(t: TransferServer, publicId: string, text: string, token?: string): Promise<RecordedRequest> {
  const client = await TestClient.open(`${t.server.wsUrl}/ws/chat/${publicId}`, token ? ['bearer', token] : undefined);
  try {
    const from = client.events.length;
    const before = t.fake.requests.length;
    client.message(text);
    const events = await client.turn(from);
    const end = events.find((e) => e.type === 'assistant_end') as { finish_reason?: string } | undefined;
    if (end?.finish_reason !== 'stop') throw new Error(`the turn ended with ${end?.finish_reason}: ${JSON.stringify(events.filter((e) => e.type === 'error'))}`);
    const request = t.fake.requests.slice(before).find((r) => JSON.stringify(r.body.input ?? '').includes(text));
    if (!request) throw new Error('the model got no request with the message');
    return request;
  } finally {
    client.ws.terminate();
  }
}

/** The text of every input item of a request, in order (user and assistant text, tool calls and outputs). */
export function inputTexts(request: RecordedRequest): string[] {
  const input = (request.body.input ?? []) as Record<string, unknown>[];
  return input.map((item) => {
    if (item.type === 'function_call') return `call ${String(item.name)} ${String(item.arguments)}`;
    if (item.type === 'function_call_output') return `output ${typeof item.output === 'string' ? item.output : JSON.stringify(item.output)}`;
    const content = item.content;
    if (typeof content === 'string') return `${String(item.role)}: ${content}`;
    if (Array.isArray(content)) return `${String(item.role)}: ${content.map((p: { text?: string }) => p.text ?? '').join('')}`;
    return JSON.stringify(item);
  });
}
