/**
 * The session store on a fresh database: ids, ownership, paging order, patches and deletes, as the
 * routes rely on them. Also the pure parts: public ids, the wire shape and the request schemas.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate.js';
import { newPublicId, PUBLIC_ID_PATTERN } from '../../src/sessions/public-id.js';
import {
  CreateSessionBodySchema,
  GetSessionQuerySchema,
  ListMessagesQuerySchema,
  ListSessionsQuerySchema,
  SessionParamsSchema,
  UpdateSessionBodySchema,
} from '../../src/sessions/schemas.js';
import { toSession } from '../../src/sessions/serialize.js';
import { deleteSession, findOwnedSession, insertSession, listSessions, updateSession, type NewSession } from '../../src/sessions/session-store.js';
import type { SessionRow } from '../../src/sessions/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let alice: string;
let bob: string;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db);
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('alice@store.test'), ('bob@store.test') RETURNING id");
  [alice, bob] = [rows[0]!.id, rows[1]!.id];
});
afterAll(() => database?.drop());

const fresh = (userId: string, extra: Partial<NewSession> = {}): NewSession => ({
  userId,
  title: null,
  isNamed: false,
  model: 'gpt-4o',
  reasoningEffort: null,
  mcpConfig: null,
  instructions: '',
  ...extra,
});

/** Ids from a fixed list, to force collisions. */
const ids = (...list: string[]) => {
  let i = 0;
  return () => list[Math.min(i++, list.length - 1)]!;
};

describe('the session store', () => {
  it('inserts a session with every field as given', async () => {
    const row = await insertSession(database.db, fresh(alice, { title: 'Plans', isNamed: true, reasoningEffort: 'low', mcpConfig: ['fetch'] }));
    expect(row).toMatchObject({
      user_id: alice,
      title: 'Plans',
      is_named: true,
      model: 'gpt-4o',
      reasoning_effort: 'low',
      mcp_config: ['fetch'],
      pinned: false,
      message_count: 0,
      turn_count: 0,
      total_tokens: 0,
    });
    expect(row.session_id).toMatch(PUBLIC_ID_PATTERN);
    expect(row.created_at).toBeInstanceOf(Date);
    expect((await insertSession(database.db, fresh(alice, { mcpConfig: [] }))).mcp_config).toEqual([]);
    expect((await insertSession(database.db, fresh(alice))).mcp_config).toBeNull();
  });

  it('retries on a public id that is taken, and gives up after five taken ids', async () => {
    const first = await insertSession(database.db, fresh(alice), () => 'chat_aaaaaaaaaaaa');
    expect(first.session_id).toBe('chat_aaaaaaaaaaaa');
    const second = await insertSession(database.db, fresh(alice), ids('chat_aaaaaaaaaaaa', 'chat_aaaaaaaaaaaa', 'chat_bbbbbbbbbbbb'));
    expect(second.session_id).toBe('chat_bbbbbbbbbbbb');
    let calls = 0;
    const alwaysTaken = () => {
      calls++;
      return 'chat_aaaaaaaaaaaa';
    };
    await expect(insertSession(database.db, fresh(alice), alwaysTaken)).rejects.toThrow('no free session id after 5 attempts');
    expect(calls).toBe(5);
    // The fifth attempt is still made: four taken ids then a free one succeeds.
    const fifth = await insertSession(database.db, fresh(alice), ids(...Array(4).fill('chat_aaaaaaaaaaaa'), 'chat_cccccccccccc'));
    expect(fifth.session_id).toBe('chat_cccccccccccc');
  });

  it("finds a session by public id or uuid for its owner only, and nothing for malformed ids", async () => {
    const row = await insertSession(database.db, fresh(alice));
    expect((await findOwnedSession(database.db, alice, row.session_id))?.id).toBe(row.id);
    expect((await findOwnedSession(database.db, alice, row.id))?.session_id).toBe(row.session_id);
    expect((await findOwnedSession(database.db, alice, row.id.toUpperCase()))?.id).toBe(row.id);
    expect(await findOwnedSession(database.db, bob, row.session_id)).toBeNull();
    expect(await findOwnedSession(database.db, bob, row.id)).toBeNull();
    expect(await findOwnedSession(database.db, alice, 'chat_000000000000')).toBeNull();
    for (const bad of ['nope', `${row.session_id}0`, ` ${row.session_id}`, `x${row.id}`, `${row.id}x`, "chat_'; DROP TABLE sessions; --"]) {
      expect(await findOwnedSession(database.db, alice, bad)).toBeNull();
    }
  });

  it('lists pinned sessions first, then the most recently used, with the total', async () => {
    const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('carol@store.test') RETURNING id");
    const carol = rows[0]!.id;
    const a = await insertSession(database.db, fresh(carol, { title: 'a' }));
    const b = await insertSession(database.db, fresh(carol, { title: 'b' }));
    const c = await insertSession(database.db, fresh(carol, { title: 'c' }));
    await database.db.query("UPDATE sessions SET last_used_at = now() - interval '1 hour' * (CASE title WHEN 'a' THEN 3 WHEN 'b' THEN 2 ELSE 1 END) WHERE user_id = $1", [carol]);
    await updateSession(database.db, carol, a.id, { pinned: true });

    const all = await listSessions(database.db, carol, 0, 10);
    expect(all.total).toBe(3);
    expect(all.rows.map((r) => r.title)).toEqual(['a', 'c', 'b']);
    const page = await listSessions(database.db, carol, 1, 1);
    expect(page).toMatchObject({ total: 3 });
    expect(page.rows.map((r) => r.id)).toEqual([c.id]);
    expect((await listSessions(database.db, carol, 3, 10)).rows).toEqual([]);
    expect(await listSessions(database.db, '00000000-0000-0000-0000-000000000000', 0, 10)).toEqual({ rows: [], total: 0 });
    expect(b.id).toBeDefined();
  });

  it('patches only the fields given; a title names the session and moves it up', async () => {
    const row = await insertSession(database.db, fresh(alice, { mcpConfig: ['fetch'], reasoningEffort: 'high' }));
    await database.db.query("UPDATE sessions SET last_used_at = now() - interval '1 day' WHERE id = $1", [row.id]);
    const old = (await findOwnedSession(database.db, alice, row.id))!;

    const titled = (await updateSession(database.db, alice, row.id, { title: 'Named' }))!;
    expect(titled).toMatchObject({ title: 'Named', is_named: true, pinned: false, model: 'gpt-4o', reasoning_effort: 'high', mcp_config: ['fetch'] });
    expect(titled.last_used_at.getTime()).toBeGreaterThan(old.last_used_at.getTime());

    const pinned = (await updateSession(database.db, alice, row.id, { pinned: true, model: 'gpt-4.1', reasoning_effort: null, mcp_config: null }))!;
    expect(pinned).toMatchObject({ title: 'Named', pinned: true, model: 'gpt-4.1', reasoning_effort: null, mcp_config: null });
    expect(pinned.last_used_at.getTime()).toBe(titled.last_used_at.getTime());

    const mcp = (await updateSession(database.db, alice, row.id, { mcp_config: ['a', 'b'], reasoning_effort: 'low' }))!;
    expect(mcp).toMatchObject({ mcp_config: ['a', 'b'], reasoning_effort: 'low', pinned: true });

    const unchanged = await updateSession(database.db, alice, row.id, {});
    expect(unchanged).toEqual(mcp);
  });

  it("neither patches nor deletes another user's session", async () => {
    const row = await insertSession(database.db, fresh(alice, { title: 'mine' }));
    expect(await updateSession(database.db, bob, row.id, { title: 'stolen' })).toBeNull();
    expect(await updateSession(database.db, bob, row.id, {})).toBeNull();
    expect(await deleteSession(database.db, bob, row.id)).toBe(false);
    expect((await findOwnedSession(database.db, alice, row.id))?.title).toBe('mine');
    expect(await deleteSession(database.db, alice, row.id)).toBe(true);
    expect(await findOwnedSession(database.db, alice, row.id)).toBeNull();
    expect(await deleteSession(database.db, alice, row.id)).toBe(false);
  });
});

describe('public ids and the wire shape', () => {
  it('makes chat_ plus 12 lowercase hex characters from 6 random bytes', () => {
    expect(newPublicId(() => Buffer.from([0, 1, 0xab, 0xcd, 0xef, 0xff]))).toBe('chat_0001abcdefff');
    expect(newPublicId()).toMatch(PUBLIC_ID_PATTERN);
    expect(newPublicId()).not.toBe(newPublicId());
    expect(PUBLIC_ID_PATTERN.test('chat_0001ABCDEFFF')).toBe(false);
    expect(PUBLIC_ID_PATTERN.test('xchat_0001abcdefff')).toBe(false);
  });

  it('serializes a row with the model window, the 80 % trigger and ISO dates', () => {
    const row: SessionRow = {
      id: 'uuid-1',
      user_id: 'u',
      session_id: 'chat_0001abcdefff',
      title: 'T',
      is_named: true,
      model: 'm',
      reasoning_effort: 'low',
      mcp_config: ['fetch'],
      instructions: 'Answer in French.',
      active_leaf_id: null,
      pinned: true,
      archived: false,
      message_count: 4,
      turn_count: 2,
      total_tokens: 99,
      accumulated_tool_tokens: 5,
      created_at: new Date('2026-01-02T03:04:05.000Z'),
      last_used_at: new Date('2026-02-03T04:05:06.000Z'),
    };
    const seen: string[] = [];
    expect(toSession(row, (model) => (seen.push(model), 1_001))).toEqual({
      id: 'uuid-1',
      session_id: 'chat_0001abcdefff',
      title: 'T',
      is_named: true,
      model: 'm',
      reasoning_effort: 'low',
      mcp_config: ['fetch'],
      instructions: 'Answer in French.',
      pinned: true,
      archived: false,
      message_count: 4,
      turn_count: 2,
      total_tokens: 99,
      max_tokens: 1_001,
      trigger_tokens: 800,
      created_at: '2026-01-02T03:04:05.000Z',
      last_used_at: '2026-02-03T04:05:06.000Z',
      pending_approvals: 0,
    });
    expect(seen).toEqual(['m']);
  });
});

describe('session request schemas', () => {
  it('accepts a trimmed title of 1 to 200 characters and refuses unknown fields', () => {
    expect(CreateSessionBodySchema.parse({ title: '  Plans  ' })).toEqual({ title: 'Plans' });
    expect(CreateSessionBodySchema.safeParse({ title: '   ' }).success).toBe(false);
    expect(CreateSessionBodySchema.safeParse({ title: 'x'.repeat(200) }).success).toBe(true);
    expect(CreateSessionBodySchema.safeParse({ title: 'x'.repeat(201) }).success).toBe(false);
    expect(CreateSessionBodySchema.safeParse({ pinned: true }).success).toBe(false);
    expect(CreateSessionBodySchema.parse({})).toEqual({});
    expect(CreateSessionBodySchema.parse({ model: ' gpt-4o ' })).toEqual({ model: 'gpt-4o' });
    expect(CreateSessionBodySchema.safeParse({ model: '' }).success).toBe(false);
    expect(CreateSessionBodySchema.safeParse({ model: 'm'.repeat(201) }).success).toBe(false);
  });

  it('knows the reasoning efforts and bounds the MCP server list', () => {
    for (const effort of ['none', 'low', 'medium', 'high']) expect(CreateSessionBodySchema.safeParse({ reasoning_effort: effort }).success).toBe(true);
    expect(CreateSessionBodySchema.safeParse({ reasoning_effort: 'max' }).success).toBe(false);
    expect(CreateSessionBodySchema.safeParse({ reasoning_effort: null }).success).toBe(false);
    expect(UpdateSessionBodySchema.parse({ reasoning_effort: null, mcp_config: null })).toEqual({ reasoning_effort: null, mcp_config: null });
    expect(CreateSessionBodySchema.safeParse({ mcp_config: null }).success).toBe(false);
    expect(CreateSessionBodySchema.safeParse({ mcp_config: Array(50).fill('s') }).success).toBe(true);
    expect(CreateSessionBodySchema.safeParse({ mcp_config: Array(51).fill('s') }).success).toBe(false);
    expect(CreateSessionBodySchema.safeParse({ mcp_config: [''] }).success).toBe(false);
    expect(CreateSessionBodySchema.safeParse({ mcp_config: ['s'.repeat(100)] }).success).toBe(true);
    expect(CreateSessionBodySchema.safeParse({ mcp_config: ['s'.repeat(101)] }).success).toBe(false);
  });

  it('patches take a boolean pin and refuse unknown fields', () => {
    expect(UpdateSessionBodySchema.parse({ pinned: false })).toEqual({ pinned: false });
    expect(UpdateSessionBodySchema.safeParse({ pinned: 'yes' }).success).toBe(false);
    expect(UpdateSessionBodySchema.safeParse({ title: '' }).success).toBe(false);
    expect(UpdateSessionBodySchema.safeParse({ owner: 'x' }).success).toBe(false);
  });

  it('pages with defaults and bounds', () => {
    expect(ListSessionsQuerySchema.parse({})).toEqual({ offset: 0, limit: 50, archived: false });
    expect(ListSessionsQuerySchema.parse({ offset: '3', limit: '100', archived: 'true' })).toEqual({ offset: 3, limit: 100, archived: true });
    expect(ListSessionsQuerySchema.safeParse({ archived: 'yes' }).success).toBe(false);
    for (const bad of [{ offset: '-1' }, { limit: '0' }, { limit: '101' }, { limit: '1.5' }]) expect(ListSessionsQuerySchema.safeParse(bad).success).toBe(false);
    expect(GetSessionQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(GetSessionQuerySchema.safeParse({ limit: '101' }).success).toBe(false);
    expect(GetSessionQuerySchema.safeParse({ limit: '0' }).success).toBe(false);
    expect(ListMessagesQuerySchema.parse({})).toEqual({ limit: 50 });
    expect(ListMessagesQuerySchema.parse({ offset: '0', before_seq: '1' })).toEqual({ offset: 0, limit: 50, before_seq: 1 });
    for (const bad of [{ offset: '-1' }, { before_seq: '0' }, { limit: '101' }, { limit: '0' }]) expect(ListMessagesQuerySchema.safeParse(bad).success).toBe(false);
    expect(SessionParamsSchema.safeParse({ id: '' }).success).toBe(false);
    expect(SessionParamsSchema.safeParse({ id: 'x'.repeat(100) }).success).toBe(true);
    expect(SessionParamsSchema.safeParse({ id: 'x'.repeat(101) }).success).toBe(false);
  });
});
