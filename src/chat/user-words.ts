/** The start of a turn in the database: the user's words saved and the turn counted, in one transaction. */
import type { AgentInputItem } from '@openai/agents';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { SessionRow } from '../sessions/types.js';
import { ContextStore } from './context-store.js';
import { insertMessage } from './message-store.js';
import type { TurnRequest } from './turn.js';

const START_SQL = `UPDATE sessions SET turn_count = turn_count + 1, last_used_at = now(),
  model = COALESCE($2, model), reasoning_effort = COALESCE($3, reasoning_effort)
  WHERE id = $1 RETURNING *`;

/** The user rows and context items, and the turn counted, in one transaction. */
export async function saveUserWords(
  db: Database,
  req: Pick<TurnRequest, 'sessionUuid' | 'contents' | 'model' | 'reasoningEffort'>,
  userItems: AgentInputItem[],
): Promise<SessionRow> {
  return db.transaction(async (tx) => {
    for (const content of req.contents) await insertMessage(tx, req.sessionUuid, { role: 'user', content });
    await new ContextStore(tx, req.sessionUuid).addItems(userItems);
    const { rows } = await tx.query<SessionRow>(START_SQL, [req.sessionUuid, req.model ?? null, req.reasoningEffort ?? null]);
    if (!rows[0]) throw new AppError('SES_4001');
    return rows[0];
  });
}
