/**
 * The approvals tables' guards, statement by statement: a call is decided once, the last decision
 * makes the turn ready exactly once, a ready turn is claimed once and its calls are settled once,
 * and an ended pause leaves nothing to claim.
 */
import { tool, type Tool } from '@openai/agents';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApprovalService } from '../../src/approvals/approval-service.js';
import { workspaceSourced } from '../../src/approvals/tool-gate.js';
import * as store from '../../src/approvals/store.js';
import type { PausedCall } from '../../src/chat/turn-pause.js';
import { migrate } from '../../src/db/migrate.js';
import type { SessionRow } from '../../src/sessions/types.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

let database: TestDatabase;
let userId: string;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db);
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('a@example.test') RETURNING id");
  userId = rows[0]!.id;
});
afterAll(async () => {
  await database?.drop();
});

const call = (id: string): PausedCall => ({ callId: id, name: 'edit_file', argsText: '{"path":"a"}', args: { path: 'a' } });

/** A session with a turn paused on `calls`. */
async function paused(...calls: string[]): Promise<{ session: SessionRow; turnId: string }> {
  n += 1;
  const { rows } = await database.db.query<SessionRow>("INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, 'm') RETURNING *", [userId, `chat_${n.toString(16).padStart(12, 'a')}`]);
  const session = rows[0]!;
  const turnId = `turn_${n}`;
  await store.savePause(database.db, { sessionUuid: session.id, userId, turnId, lastSeq: 7 }, calls.map(call), new Date(Date.now() + 60_000));
  return { session, turnId };
}

const approve = { status: 'approved' as const, by: 'a@example.test', reason: null };

describe('the approvals store', () => {
  it('a call is decided once: the second answer is RES_3061, an unknown call RES_3060', async () => {
    const { session } = await paused('c1');
    const first = await store.decide(database.db, session.id, 'c1', approve);
    expect(first).toMatchObject({ seq: 8, ready: true, row: { status: 'approved', decided_by: 'a@example.test' } });
    await expect(store.decide(database.db, session.id, 'c1', { ...approve, status: 'denied' })).rejects.toMatchObject({ code: 'RES_3061' });
    await expect(store.decide(database.db, session.id, 'nope', approve)).rejects.toMatchObject({ code: 'RES_3060' });
  });

  it('concurrent decisions of two calls: exactly one of them makes the turn ready, each gets its own seq', async () => {
    const { session } = await paused('c1', 'c2');
    const both = await Promise.all([store.decide(database.db, session.id, 'c1', approve), store.decide(database.db, session.id, 'c2', approve)]);
    expect(both.filter((d) => d.ready)).toHaveLength(1);
    expect(both.map((d) => d.seq).sort()).toEqual([8, 9]);
  });

  it('a ready turn is claimed once, its calls settled once; a paused one cannot be claimed', async () => {
    const { session, turnId } = await paused('c1', 'c2');
    await store.decide(database.db, session.id, 'c1', approve);
    expect(await store.claimReady(database.db, turnId)).toBeUndefined();
    await store.decide(database.db, session.id, 'c2', { ...approve, status: 'denied', reason: 'no' });
    const claims = await Promise.all([store.claimReady(database.db, turnId), store.claimReady(database.db, turnId)]);
    const won = claims.filter((c) => c !== undefined);
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ lastSeq: 9, calls: [{ tool_call_id: 'c1', status: 'approved' }, { tool_call_id: 'c2', status: 'denied', reason: 'no' }] });
    expect(await store.endPause(database.db, session.id, 'a new message')).toBeUndefined();
  });

  it('an ended pause interrupts its waiting calls and leaves nothing to decide or claim', async () => {
    const { session, turnId } = await paused('c1', 'c2');
    await store.decide(database.db, session.id, 'c1', approve);
    const ended = await store.endPause(database.db, session.id, 'the user');
    expect(ended?.calls.map((c) => [c.tool_call_id, c.status])).toEqual(expect.arrayContaining([['c1', 'approved'], ['c2', 'interrupted']]));
    await expect(store.decide(database.db, session.id, 'c2', approve)).rejects.toMatchObject({ code: 'RES_3061' });
    expect(await store.claimReady(database.db, turnId)).toBeUndefined();
    expect(await store.listPending(database.db, session.id)).toEqual([]);
  });

  it('"always" stores the session policy by tool name', async () => {
    const { session } = await paused('c1');
    await store.decide(database.db, session.id, 'c1', { ...approve, always: 'auto' });
    expect(await store.sessionPolicies(database.db, session.id)).toEqual({ edit_file: 'auto' });
  });
});

describe('a turn\'s tools under the session\'s policies', () => {
  const editFile = tool({ name: 'edit_file', description: 'Edits a file.', parameters: z.object({}), execute: () => 'edited' });
  const gateOf = (session: Pick<SessionRow, 'id' | 'tool_approvals'>) =>
    new ApprovalService({ db: database.db, logger: pino({ level: 'silent' }), mode: 'ask', timeoutS: 60 }).gate(session, [workspaceSourced(editFile)]);
  const policyOf = (t: Tool | undefined): string => {
    if (t?.type !== 'function') return 'not a function tool';
    if (t.invoke !== editFile.invoke) return 'deny';
    return t.needsApproval === editFile.needsApproval ? 'auto' : 'ask';
  };

  it('takes the policies from the session row the turn started with, and reads them for a row without', async () => {
    const { session } = await paused('c1');
    await store.decide(database.db, session.id, 'c1', { ...approve, status: 'denied', always: 'deny' });
    expect(policyOf((await gateOf({ id: session.id }))[0])).toBe('deny');
    const { rows } = await database.db.query<SessionRow>('SELECT * FROM sessions WHERE id = $1', [session.id]);
    expect(policyOf((await gateOf(rows[0]!))[0])).toBe('deny');
    // The row is what the turn saw when it started: a policy set later counts from the next turn.
    expect(policyOf((await gateOf({ id: session.id, tool_approvals: {} }))[0])).toBe('ask');
    expect(policyOf((await gateOf({ id: session.id, tool_approvals: { edit_file: 'auto' } }))[0])).toBe('auto');
  });
});
