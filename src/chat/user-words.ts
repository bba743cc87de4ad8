/**
 * The start of a turn in the database, in one transaction: the turn's place in the tree (after the
 * active leaf, under an edited message's parent, or under the question a regenerate answers
 * again), the user's rows and their context items, the turn counted and — when the turn moves to
 * another branch — the token total of that branch.
 */
import type { AgentInputItem } from '@openai/agents';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { SessionRow } from '../sessions/types.js';
import { branchTotal, FOLLOW, type TurnBranch } from './branch.js';
import { AFTER_LEAF, insertMessage } from './message-store.js';
import { userItemWithAttachments, type PreparedAttachments } from './attachments.js';
import { ContextStore, userMessage } from './context-store.js';
import type { TurnRequest } from './turn.js';

const START_SQL = `UPDATE sessions SET turn_count = turn_count + 1, last_used_at = now(),
  model = COALESCE($2, model), reasoning_effort = COALESCE($3, reasoning_effort),
  total_tokens = COALESCE($4, total_tokens), active_leaf_id = COALESCE($5, active_leaf_id)
  WHERE id = $1 RETURNING *`;

/** What the user sent: one text per message, and the files sent with the last one. */
export interface UserWords {
  contents: string[];
  /** Stored on the last message's row (`metadata.attachments`); its images go in its context item. */
  attachments?: PreparedAttachments;
}

/** One user item per message; the last carries the attachments. */
export function userItemsFor(contents: readonly string[], prepared: PreparedAttachments | undefined): AgentInputItem[] {
  const last = contents.length - 1;
  return contents.map((text, i) => (i === last && prepared ? userItemWithAttachments(text, prepared) : userMessage(text)));
}

/** The row the turn's first row goes under. */
function baseOf(branch: TurnBranch, activeLeaf: string | null): string | null {
  if (branch.kind === 'edit') return branch.parentId;
  if (branch.kind === 'regenerate') return branch.userMessageId;
  return activeLeaf;
}

/**
 * The user rows and context items (each item hung on its own row), the turn counted, in one
 * transaction. `count` counts items on the session's model (a branch's token total).
 */
export async function saveUserWords(
  db: Database,
  req: Pick<TurnRequest, 'sessionUuid' | 'contents' | 'model' | 'reasoningEffort' | 'branch' | 'attachments'>,
  userItems: AgentInputItem[],
  count?: (model: string, items: AgentInputItem[]) => number,
): Promise<SessionRow> {
  const branch = req.branch ?? FOLLOW;
  return db.transaction(async (tx) => {
    const { rows: locked } = await tx.query<SessionRow>('SELECT * FROM sessions WHERE id = $1 FOR UPDATE', [req.sessionUuid]);
    const before = locked[0];
    if (!before) throw new AppError('SES_4001');
    const base = baseOf(branch, before.active_leaf_id);
    let total: number | null = null;
    if (count && base !== before.active_leaf_id) {
      const model = req.model ?? before.model;
      const paths = { fromLeaf: before.active_leaf_id, toLeaf: base, total: before.total_tokens };
      total = await branchTotal(tx, req.sessionUuid, paths, (items) => count(model, items));
    }
    const store = new ContextStore(tx, req.sessionUuid);
    for (const [i, content] of req.contents.entries()) {
      const place = i === 0 && branch.kind === 'edit' ? { parentId: branch.parentId } : AFTER_LEAF;
      const attached = i === req.contents.length - 1 && req.attachments ? { metadata: { attachments: req.attachments.stored } } : {};
      const row = await insertMessage(tx, req.sessionUuid, { role: 'user', content, ...attached }, place);
      const item = userItems[i];
      if (item) await store.addItems([item], row.id);
    }
    const leaf = branch.kind === 'regenerate' ? branch.userMessageId : null;
    const { rows } = await tx.query<SessionRow>(START_SQL, [req.sessionUuid, req.model ?? null, req.reasoningEffort ?? null, total, leaf]);
    if (!rows[0]) throw new AppError('SES_4001');
    return rows[0];
  });
}
