/** What a chat's title is made from: its first question and its latest answer with text. */
import type { Database } from '../db/database.js';
import type { FirstExchange } from './hooks.js';

const FIRST_EXCHANGE_SQL = `(SELECT role, content FROM messages WHERE session_id = $1 AND role = 'user' ORDER BY seq ASC LIMIT 1)
  UNION ALL
  (SELECT role, content FROM messages WHERE session_id = $1 AND role = 'assistant' AND content <> '' ORDER BY seq DESC LIMIT 1)`;

export async function firstExchange(db: Database, sessionUuid: string): Promise<FirstExchange> {
  const { rows } = await db.query<{ role: string; content: string | null }>(FIRST_EXCHANGE_SQL, [sessionUuid]);
  return { user: rows.find((r) => r.role === 'user')?.content ?? '', assistant: rows.find((r) => r.role === 'assistant')?.content ?? '' };
}
