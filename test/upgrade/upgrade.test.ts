/**
 * Upgrades lose nothing: a database and DATA_DIR made by release 0.1.0 (test/fixtures/upgrade,
 * filled through that release's public API by make-fixture.mjs) open with the current code, which
 * migrates them, and every user, password, refresh token, session, message and file is still
 * there — and the sessions chat on. Once on the embedded database (the release's own PGlite data
 * directory) and once on PostgreSQL (a pg_dump of that release's database).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/db/database.js';
import { createPgliteDatabase } from '../../src/db/pglite-driver.js';
import { createPostgresDatabase } from '../../src/db/postgres-driver.js';
import { counted, createEmptyPostgresDatabase, TEST_DATABASE_URL } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';

const FIXTURES = path.resolve(import.meta.dirname, '../fixtures/upgrade/0.1.0');
/** The JWT secret the fixture's server ran with (access tokens are re-issued; refresh tokens are stored). */
const JWT_SECRET = 'upgrade-fixture-secret-0123456789abcdef';
const HAS_TAR = spawnSync('tar', ['--version']).status === 0;
if (!HAS_TAR) console.warn('upgrade tests skipped: the `tar` program is not installed');

interface OldMessage {
  id: string;
  seq: number;
  role: string;
  content: string | null;
}
interface Facts {
  users: Array<{
    email: string;
    password: string;
    refresh_token: string;
    sessions: Record<string, { title: string; pinned: boolean; message_count: number; turn_count: number; messages: OldMessage[] }>;
  }>;
}

function extract(archive: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pulp-upgrade-'));
  const result = spawnSync('tar', ['xzf', path.join(FIXTURES, archive), '-C', dir]);
  if (result.status !== 0) throw new Error(`tar failed: ${result.stderr.toString()}`);
  return path.join(dir, 'data');
}

/** The release's PostgreSQL dump, restored into a new database. */
async function restorePostgres(): Promise<{ db: Database; drop: () => Promise<void> }> {
  const empty = await createEmptyPostgresDatabase();
  const client = new pg.Client({ connectionString: empty.url });
  await client.connect();
  try {
    await client.query(readFileSync(path.join(FIXTURES, 'postgres.sql'), 'utf8'));
  } finally {
    await client.end();
  }
  const db = createPostgresDatabase({ url: empty.url, poolMax: 4, statementTimeoutMs: 30_000, logger: pino({ level: 'silent' }) });
  return {
    db,
    drop: async () => {
      await empty.drop();
    },
  };
}

const variants = [
  { name: 'embedded database (PGlite data directory)', facts: 'pglite-facts.json', data: 'pglite-data.tgz', postgres: false },
  { name: 'PostgreSQL (pg_dump)', facts: 'postgres-facts.json', data: 'postgres-data.tgz', postgres: true },
];

describe.each(variants)('a 0.1.0 installation on the $name', (variant) => {
  const skip = !HAS_TAR || (variant.postgres && !TEST_DATABASE_URL);
  const facts = JSON.parse(readFileSync(path.join(FIXTURES, variant.facts), 'utf8')) as Facts;
  const [ada, bob] = facts.users as [Facts['users'][number], Facts['users'][number]];
  let dataDir: string;
  let server: TestServer;
  let dropDatabase: () => Promise<void> = async () => {};
  let fake: FakeOpenAI;

  beforeAll(async () => {
    if (skip) return;
    fake = await startFakeOpenAI();
    fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['Still here after the upgrade.'] }] }));
    dataDir = extract(variant.data);
    let db: Database;
    if (variant.postgres) {
      const restored = await restorePostgres();
      db = restored.db;
      dropDatabase = restored.drop;
    } else {
      db = await createPgliteDatabase(path.join(dataDir, 'db'));
    }
    server = await startTestServer(
      {
        AUTH_MODE: 'jwt',
        JWT_SECRET,
        DATA_DIR: dataDir,
        AUTH_RATE_LIMIT_PER_MIN: '1000',
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: fake.baseUrl,
        OPENAI_API_KEY: 'test',
        OPENAI_API_MODE: 'responses',
      },
      { database: { ...counted(db), url: undefined, drop: () => db.close() } },
    );
  });

  afterAll(async () => {
    if (skip) return;
    await server.close();
    await fake.close();
    await dropDatabase();
    rmSync(path.dirname(dataDir), { recursive: true, force: true });
  });

  async function call<T>(method: string, url: string, token?: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${server.baseUrl}/api/v1${url}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async function login(user: Facts['users'][number]): Promise<string> {
    const res = await call<{ access_token: string }>('POST', '/auth/login', undefined, { email: user.email, password: user.password });
    expect(res.status).toBe(200);
    return res.body.access_token;
  }

  it.skipIf(skip)('keeps every account: passwords log in, stored refresh tokens still refresh', async () => {
    for (const user of facts.users) {
      await login(user);
      const refreshed = await call<{ access_token: string }>('POST', '/auth/refresh', undefined, { refresh_token: user.refresh_token });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.access_token).toEqual(expect.any(String));
    }
  });

  it.skipIf(skip)('makes the earliest account the administrator; the others are users, none disabled', async () => {
    const { rows } = await server.pulp.db.query<{ email: string; role: string; disabled: boolean }>(
      'SELECT email, role, disabled FROM users ORDER BY created_at, id',
    );
    expect(rows.map((r) => r.email)).toEqual(facts.users.map((u) => u.email));
    expect(rows.map((r) => [r.role, r.disabled])).toEqual(facts.users.map((_, i) => [i === 0 ? 'admin' : 'user', false]));
    const token = await login(ada);
    expect((await call<{ role: string }>('GET', '/auth/me', token)).body.role).toBe('admin');
    const admin = await call<{ users: unknown[] }>('GET', '/admin/users', token);
    expect(admin.body.users).toHaveLength(facts.users.length);
    expect((await call('GET', '/admin/users', await login(bob))).status).toBe(403);
  });

  it.skipIf(skip)('keeps every session with its title and pin, and every message as it was', async () => {
    for (const user of facts.users) {
      const token = await login(user);
      const list = await call<{ sessions: Array<{ session_id: string; title: string; pinned: boolean; message_count: number }> }>('GET', '/sessions', token);
      expect(list.body.sessions.map((s) => s.session_id).sort()).toEqual(Object.keys(user.sessions).sort());
      for (const [id, old] of Object.entries(user.sessions)) {
        const session = list.body.sessions.find((s) => s.session_id === id)!;
        expect(session).toMatchObject({ title: old.title, pinned: old.pinned, message_count: old.message_count });
        const { body } = await call<{ messages: OldMessage[] }>('GET', `/sessions/${id}/messages?limit=100`, token);
        expect(body.messages).toHaveLength(old.messages.length);
        body.messages.forEach((message, i) => expect(message).toMatchObject(old.messages[i]!));
      }
    }
  });

  it.skipIf(skip)('finds the old messages by search, each user only their own; old sessions are unarchived, with no instructions', async () => {
    let checked = 0;
    for (const user of facts.users) {
      const token = await login(user);
      const list = await call<{ sessions: Array<{ session_id: string; archived: boolean; instructions: string }> }>('GET', '/sessions', token);
      expect(list.body.sessions.every((s) => !s.archived && s.instructions === '')).toBe(true);
      for (const [id, old] of Object.entries(user.sessions)) {
        for (const message of old.messages.filter((m) => (m.role === 'user' || m.role === 'assistant') && m.content)) {
          // Its longest plain word, unless a stop word (a file path such as input/data.csv is one token).
          const words = message.content!.split(/\s+/).map((w) => w.replace(/^[“"(]+|[.,:;!?”")]+$/g, ''));
          const word = words.filter((w) => /^[A-Za-z]{4,}$/.test(w)).sort((a, b) => b.length - a.length)[0];
          if (!word) continue;
          const { rows } = await server.pulp.db.query<{ searchable: boolean }>("SELECT numnode(plainto_tsquery('english', $1)) > 0 AS searchable", [word]);
          if (!rows[0]?.searchable) continue;
          const found = await call<{ results: Array<{ session_id: string; message_id: string | null }> }>('GET', `/search?q=${word}&limit=50`, token);
          expect(found.body.results.map((r) => r.message_id), `${word} in ${id}`).toContain(message.id);
          const owners = new Set(found.body.results.map((r) => r.session_id));
          expect([...owners].every((sessionId) => sessionId in user.sessions)).toBe(true);
          checked += 1;
        }
      }
    }
    expect(checked).toBeGreaterThan(10);
  });

  it.skipIf(skip)('turns every old chat into one path: each message follows the one before it, the newest is the active leaf', async () => {
    for (const user of facts.users) {
      const token = await login(user);
      for (const [id, old] of Object.entries(user.sessions)) {
        const { body } = await call<{ messages: Array<OldMessage & { parent_id: string | null; sibling_ids: string[] }> }>('GET', `/sessions/${id}/messages?limit=100`, token);
        expect(body.messages.map((m) => m.id)).toEqual(old.messages.map((m) => m.id));
        expect(body.messages.map((m) => m.parent_id)).toEqual([null, ...old.messages.slice(0, -1).map((m) => m.id)]);
        for (const m of body.messages) expect(m.sibling_ids).toEqual([m.id]);
        const { rows } = await server.pulp.db.query<{ active_leaf_id: string }>('SELECT active_leaf_id FROM sessions WHERE session_id = $1', [id]);
        expect(rows[0]!.active_leaf_id).toBe(old.messages.at(-1)!.id);
      }
    }
  });

  it.skipIf(skip)('keeps the files: the upload and what a tool wrote download unchanged', async () => {
    const token = await login(ada);
    const [notes] = Object.entries(ada.sessions).find(([, s]) => s.pinned)!;
    const upload = await fetch(`${server.baseUrl}/api/v1/sessions/${notes}/files/input/data.csv`, { headers: { authorization: `Bearer ${token}` } });
    expect(await upload.text()).toBe('city,temp\nOslo,3\nLima,19\n');
    const written = await fetch(`${server.baseUrl}/api/v1/sessions/${notes}/files/output/report.md`, { headers: { authorization: `Bearer ${token}` } });
    expect(await written.text()).toBe('# Report\nAll good.\n');
  });

  it.skipIf(skip)('keeps users apart: one user cannot see the other user\'s sessions', async () => {
    const token = await login(bob);
    for (const id of Object.keys(ada.sessions)) expect((await call('GET', `/sessions/${id}`, token)).status).toBe(404);
  });

  it.skipIf(skip)('chats on in an upgraded session: a new turn completes and is stored after the old messages', async () => {
    const token = await login(ada);
    const [id, old] = Object.entries(ada.sessions).find(([, s]) => !s.pinned)!;
    const socket = new WebSocket(`${server.wsUrl}/ws/chat/${id}`, ['bearer', token]);
    const ended = new Promise<{ finish_reason: string }>((resolve, reject) => {
      socket.on('message', (data: Buffer) => {
        const event = JSON.parse(data.toString('utf8')) as { type: string; finish_reason?: string };
        if (event.type === 'assistant_end') resolve(event as { finish_reason: string });
      });
      socket.on('error', reject);
    });
    await new Promise((resolve) => socket.once('open', resolve));
    socket.send(JSON.stringify({ type: 'message', messages: [{ content: 'Are you still there after the upgrade?' }] }));
    expect((await ended).finish_reason).toBe('stop');
    socket.close();
    const { body } = await call<{ messages: OldMessage[] }>('GET', `/sessions/${id}/messages?limit=100`, token);
    expect(body.messages).toHaveLength(old.messages.length + 2);
    expect(body.messages.at(-2)).toMatchObject({ role: 'user', content: 'Are you still there after the upgrade?' });
    expect(body.messages.at(-1)).toMatchObject({ role: 'assistant' });
    expect(body.messages.at(-1)!.seq).toBeGreaterThan(old.messages.at(-1)!.seq);
    expect(body.messages.at(-1)).toMatchObject({ content: 'Still here after the upgrade.', parent_id: body.messages.at(-2)!.id });
    expect(body.messages.at(-2)).toMatchObject({ parent_id: old.messages.at(-1)!.id });
    // The model was sent the old conversation, in order, before the new question.
    const input = JSON.stringify(fake.requests.at(-1)?.body.input);
    const said = [...old.messages.filter((m) => m.role === 'user').map((m) => m.content!), 'Are you still there after the upgrade?'];
    const at = said.map((text) => input.indexOf(JSON.stringify(text).slice(1, -1)));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect(at).toEqual([...at].sort((a, b) => a - b));
    expect(input).toContain(old.messages.find((m) => m.role === 'assistant')!.content!.slice(0, 30));
  });
});
