/**
 * Ending a turn whose server died (SIGKILL, lost host): done by whichever server next holds the
 * session's lock. The last checkpointed text stays as the partial answer (it is marked partial
 * already) and enters llm_context marked as interrupted; open tool calls are completed as
 * interrupted; listeners get `function_completed`, `stream_interrupted` and `assistant_end`
 * continuing the dead turn's seq, as if its server had ended it.
 */
import { ContextStore, INTERRUPTED_TOOL_RESULT, interruptedAssistantMessage } from '../chat/context-store.js';
import type { TurnEventBody } from '../chat/events.js';
import type { Database } from '../db/database.js';

export interface EndedOrphan {
  sessionUuid: string;
  /** The public session id events carry. */
  sessionId: string;
  turnId: string;
  /** Events to send, seq already stamped in order after the dead turn's last logged one. */
  events: Array<TurnEventBody & { seq: number }>;
}

const CLAIM_SQL = `UPDATE chat_turns t SET ended_at = now() FROM sessions s
  WHERE t.turn_id = $1 AND t.ended_at IS NULL AND s.id = t.session_id
  RETURNING t.session_id AS session_uuid, s.session_id AS public_id`;

const CLOSE_TEXT_SQL = `UPDATE messages SET metadata = jsonb_build_object('partial', true, 'status', 'interrupted')
  WHERE session_id = $1 AND role = 'assistant' AND metadata->>'streaming' = 'true'
  RETURNING seq, content`;

const CLOSE_TOOLS_SQL = `UPDATE messages SET tool_result = $2, tool_success = false,
  metadata = jsonb_build_object('interrupted', true, 'status', 'interrupted')
  WHERE session_id = $1 AND role = 'tool_call' AND tool_result IS NULL
  RETURNING seq, tool_call_id, tool_name`;

/**
 * Ends `turnId` if it is still open; the caller holds the session's lock (so no server runs a turn
 * there). Undefined when another server ended it first. Events are returned, not sent.
 */
export async function endOrphanTurn(db: Database, turnId: string): Promise<EndedOrphan | undefined> {
  return db.transaction(async (tx) => {
    const { rows: claimed } = await tx.query<{ session_uuid: string; public_id: string }>(CLAIM_SQL, [turnId]);
    const turn = claimed[0];
    if (!turn) return undefined;
    const { rows: logged } = await tx.query<{ last: number | null; ended: boolean }>(
      `SELECT max(seq) AS last, bool_or(type = 'assistant_end') AS ended FROM turn_events WHERE turn_id = $1`,
      [turnId],
    );
    const last = logged[0]?.last ?? 0;
    const base = { sessionUuid: turn.session_uuid, sessionId: turn.public_id, turnId };
    // Its server ended it and then lost the connection before saying so: nothing is left to do.
    if (logged[0]?.ended) return { ...base, events: [] };

    const { rows: texts } = await tx.query<{ seq: number; content: string | null }>(CLOSE_TEXT_SQL, [turn.session_uuid]);
    const { rows: tools } = await tx.query<{ seq: number; tool_call_id: string; tool_name: string }>(CLOSE_TOOLS_SQL, [
      turn.session_uuid,
      INTERRUPTED_TOOL_RESULT,
    ]);
    // Dangling function calls get their outputs when the context is read (repairContext).
    const partials = texts.sort((a, b) => a.seq - b.seq).filter((t) => (t.content ?? '') !== '');
    await new ContextStore(tx, turn.session_uuid).addItems(partials.map((t) => interruptedAssistantMessage(t.content ?? '')));

    let seq = last;
    const events: EndedOrphan['events'] = [];
    for (const tool of tools.sort((a, b) => a.seq - b.seq)) {
      events.push({
        type: 'function_completed',
        tool_call_id: tool.tool_call_id,
        tool_name: tool.tool_name,
        tool_result: INTERRUPTED_TOOL_RESULT,
        tool_success: false,
        interrupted: true,
        seq: ++seq,
      });
    }
    if (last > 0) events.push({ type: 'stream_interrupted', seq: ++seq });
    else events.push({ type: 'assistant_start', seq: ++seq });
    events.push({ type: 'assistant_end', finish_reason: 'interrupted', seq: ++seq });
    return { ...base, events };
  });
}

/** Open turns recorded by other servers (candidates for `endOrphanTurn` once their lock is free). */
export async function openTurnsElsewhere(db: Database, serverId: string): Promise<Array<{ turn_id: string; session_id: string }>> {
  const { rows } = await db.query<{ turn_id: string; session_id: string }>(
    'SELECT turn_id, session_id FROM chat_turns WHERE ended_at IS NULL AND server_id <> $1 ORDER BY started_at',
    [serverId],
  );
  return rows;
}

/** Drops the log of turns that ended more than `graceS` ago, and anything older than `maxAgeS`. */
export async function pruneTurnLog(db: Database, graceS: number, maxAgeS: number): Promise<void> {
  await db.query(
    `DELETE FROM turn_events WHERE created_at < now() - make_interval(secs => $2)
       OR turn_id IN (SELECT turn_id FROM chat_turns WHERE ended_at < now() - make_interval(secs => $1))`,
    [graceS, maxAgeS],
  );
  await db.query('DELETE FROM chat_turns WHERE ended_at < now() - make_interval(secs => $1)', [graceS]);
}
