/** Which sessions of a user have a turn open in `chat_turns` (running on any server of the cluster). */
import type { Queryable } from '../db/database.js';

export async function openTurnSessionsOf(db: Queryable, userId: string): Promise<string[]> {
  const { rows } = await db.query<{ session_id: string }>(
    `SELECT DISTINCT t.session_id FROM chat_turns t JOIN sessions s ON s.id = t.session_id
      WHERE s.user_id = $1 AND t.ended_at IS NULL`,
    [userId],
  );
  return rows.map((r) => r.session_id);
}
