/**
 * Where a turn runs in the conversation tree: after the active leaf, as an edit (a sibling of the
 * edited message, under `parent_id`) or as a regenerate (a new answer under a user message). The
 * frame's ids are checked here, before any turn starts; and a path's token total is worked out
 * when a turn or a switch moves the session to another branch.
 */
import type { AgentInputItem } from '@openai/agents';
import type { Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { pathContextRows } from './context-store.js';

export type TurnBranch =
  /** After the session's active leaf. */
  | { kind: 'follow' }
  /** The turn's first user row goes under `parentId` (null: a new first message). */
  | { kind: 'edit'; parentId: string | null }
  /** No user row: a new answer under this user row. */
  | { kind: 'regenerate'; userMessageId: string };

export const FOLLOW: TurnBranch = { kind: 'follow' };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The row `id` of the session, or undefined (ids that are no UUID are no row). */
export async function findRow(q: Queryable, sessionUuid: string, id: string): Promise<{ id: string; role: string } | undefined> {
  if (!UUID.test(id)) return undefined;
  const { rows } = await q.query<{ id: string; role: string }>('SELECT id, role FROM messages WHERE id = $1 AND session_id = $2', [id, sessionUuid]);
  return rows[0];
}

/** The nearest user row at or above `id` (a regenerate of an answer answers its question again). */
async function questionOf(q: Queryable, sessionUuid: string, id: string): Promise<string | undefined> {
  const { rows } = await q.query<{ id: string }>(
    `WITH RECURSIVE up(id, parent_id, role, depth) AS (
       SELECT id, parent_id, role, 0 FROM messages WHERE id = $1 AND session_id = $2
       UNION ALL
       SELECT m.id, m.parent_id, m.role, up.depth + 1 FROM messages m JOIN up ON m.id = up.parent_id WHERE up.role <> 'user'
     )
     SELECT id FROM up WHERE role = 'user' ORDER BY depth LIMIT 1`,
    [id, sessionUuid],
  );
  return rows[0]?.id;
}

/**
 * The branch a `message` (with `parentId` when given) or a `regenerate` (of `regenerateOf`) runs on.
 * @throws AppError VAL_2010 (parent_id is no message of this chat), VAL_2011 (the message to
 *   regenerate is no message of this chat), VAL_2012 (no question above it to answer again).
 */
export async function resolveBranch(
  q: Queryable,
  sessionUuid: string,
  ask: { parentId?: string | null; regenerateOf?: string },
): Promise<TurnBranch> {
  if (ask.regenerateOf !== undefined) {
    const row = await findRow(q, sessionUuid, ask.regenerateOf);
    if (!row) throw new AppError('VAL_2011', `Message ${ask.regenerateOf} is not a message of this chat; nothing was regenerated.`);
    const question = row.role === 'user' ? row.id : await questionOf(q, sessionUuid, row.id);
    if (!question) throw new AppError('VAL_2012', 'That message follows no question of yours, so there is nothing to answer again.');
    return { kind: 'regenerate', userMessageId: question };
  }
  if (ask.parentId === undefined) return FOLLOW;
  if (ask.parentId === null) return { kind: 'edit', parentId: null };
  const parent = await findRow(q, sessionUuid, ask.parentId);
  if (!parent) throw new AppError('VAL_2010', `parent_id ${ask.parentId} is not a message of this chat; nothing was sent.`);
  return { kind: 'edit', parentId: parent.id };
}

/**
 * The token total of the path ending at `toLeaf`, for a session whose stored `total` describes
 * the path ending at `fromLeaf`: the items of the new path counted, plus what the stored
 * (provider-corrected) total held beyond the old path's items — instructions and tool schemas,
 * which every path sends.
 */
export async function branchTotal(
  q: Queryable,
  sessionUuid: string,
  paths: { fromLeaf: string | null; toLeaf: string | null; total: number },
  count: (items: AgentInputItem[]) => number,
): Promise<number> {
  const [from, to] = await Promise.all([
    paths.fromLeaf === null ? Promise.resolve([]) : pathContextRows(q, sessionUuid, paths.fromLeaf),
    paths.toLeaf === null ? Promise.resolve([]) : pathContextRows(q, sessionUuid, paths.toLeaf),
  ]);
  const items = (rows: typeof from) => rows.map((r) => r.item);
  const fixed = Math.max(0, paths.total - count(items(from)));
  return count(items(to)) + fixed;
}
