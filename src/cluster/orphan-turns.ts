/**
 * Ending a turn whose server died (SIGKILL, lost host): done by whichever server next holds the
 * session's lock. The last checkpointed text stays as the partial answer (it is marked partial
 * already) and enters llm_context marked as interrupted; open tool calls are completed as
 * interrupted; listeners get `function_completed`, `stream_interrupted` and `assistant_end`
 * continuing the dead turn's seq, as if its server had ended it.
 */
import { ContextStore } from '../chat/context-store.js';
import type { TurnEventBody } from '../chat/events.js';
import type { RowFlags } from '../chat/row-flags.js';
import { endTurn, type OpenTurn } from '../chat/turn-end.js';
import type { Database, Queryable } from '../db/database.js';
import { LOCK_CONNECTION_PREFIX } from './session-locks.js';

export interface EndedOrphan {
  sessionUuid: string;
  /** The public session id events carry. */
  sessionId: string;
  turnId: string;
  /** Events to send, seq already stamped in order after the dead turn's last logged one. */
  events: Array<TurnEventBody & { seq: number }>;
  /**
   * False when none of the turn's events reached the log: no client still connected saw it start.
   * Its end (`assistant_start`, `assistant_end{interrupted}`) is then only logged, for a `resume`:
   * sent live, it would reach the session's new connections as a turn they never asked for,
   * cancelled at once — a client takes it for its own next message's turn.
   */
  announced: boolean;
}

const CLAIM_SQL = `UPDATE chat_turns t SET ended_at = now() FROM sessions s
  WHERE t.turn_id = $1 AND t.ended_at IS NULL AND s.id = t.session_id
  RETURNING t.session_id AS session_uuid, s.session_id AS public_id`;

const OPEN_TEXT_SQL = `SELECT id, content FROM messages
  WHERE session_id = $1 AND role = 'assistant' AND metadata->>'streaming' = 'true' ORDER BY seq`;
const OPEN_TOOLS_SQL = `SELECT id, tool_call_id, tool_name, tool_arguments FROM messages
  WHERE session_id = $1 AND role = 'tool_call' AND tool_result IS NULL ORDER BY seq`;

interface OpenRows {
  texts: Array<{ id: string; content: string | null }>;
  tools: Array<{ id: string; tool_call_id: string; tool_name: string; tool_arguments: Record<string, unknown> | null }>;
}

/** What a dead turn left in `messages`: its last checkpointed text and the tools it had started. */
async function loadOpenRows(tx: Queryable, sessionUuid: string): Promise<OpenRows> {
  const { rows: texts } = await tx.query<OpenRows['texts'][number]>(OPEN_TEXT_SQL, [sessionUuid]);
  const { rows: tools } = await tx.query<OpenRows['tools'][number]>(OPEN_TOOLS_SQL, [sessionUuid]);
  return { texts, tools };
}

function openTurnOf(rows: OpenRows): OpenTurn {
  const said = rows.texts.map((t) => t.content ?? '').filter((t) => t !== '');
  return {
    openText: rows.texts.length > 0 ? said.join('\n\n') : undefined,
    unsaid: said.join('\n\n'),
    // Its function_call items never reached llm_context; reads repair any that did (repairContext).
    calls: rows.tools.map((t) => ({ callId: t.tool_call_id, name: t.tool_name, args: t.tool_arguments ?? {}, hasRow: true, inContext: false })),
  };
}

async function setFlags(tx: Queryable, id: string, flags: RowFlags, tool?: { result: string; success: boolean }): Promise<void> {
  if (tool) await tx.query('UPDATE messages SET tool_result = $2, tool_success = $3, metadata = $4 WHERE id = $1', [id, tool.result, tool.success, flags]);
  else await tx.query('UPDATE messages SET metadata = $2 WHERE id = $1', [id, flags]);
}

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
      // A paused turn's assistant_end{paused} is not its end: the turn went on after it (src/approvals).
      `SELECT max(seq) AS last, bool_or(type = 'assistant_end' AND event NOT LIKE '%"finish_reason":"paused"%') AS ended FROM turn_events WHERE turn_id = $1`,
      [turnId],
    );
    const last = logged[0]?.last ?? 0;
    const base = { sessionUuid: turn.session_uuid, sessionId: turn.public_id, turnId, announced: last > 0 };
    // Its server ended it and then lost the connection before saying so: nothing is left to do.
    if (logged[0]?.ended) return { ...base, events: [] };
    // It waits for approvals (src/approvals): stored, it lives on without its server.
    const { rows: paused } = await tx.query('SELECT 1 FROM paused_turns WHERE turn_id = $1', [turnId]);
    if (paused.length > 0) return { ...base, events: [] };

    const rows = await loadOpenRows(tx, turn.session_uuid);
    const ending = endTurn(openTurnOf(rows), { kind: 'orphaned', started: last > 0 });
    for (const t of rows.texts) if (ending.text) await setFlags(tx, t.id, ending.text.flags);
    for (const [i, tool] of ending.tools.entries()) {
      const id = rows.tools[i]?.id;
      if (id) await setFlags(tx, id, tool.flags, tool);
    }
    await new ContextStore(tx, turn.session_uuid).addItems(ending.context);
    let seq = last;
    return { ...base, events: [...ending.events, ...ending.closing].map((e) => ({ ...e, seq: ++seq })) };
  });
}

/** Open turns recorded by other servers, alive or not. */
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

/**
 * Open turns of servers that are gone: their lock connection is no longer in pg_stat_activity.
 * The turns of live servers are not even tried (a sweep of every open turn took one lock round
 * trip per running chat, every sweep, on every server).
 */
export async function orphanCandidates(db: Database, serverId: string): Promise<Array<{ turn_id: string; session_id: string }>> {
  const { rows } = await db.query<{ turn_id: string; session_id: string }>(
    `SELECT t.turn_id, t.session_id FROM chat_turns t
      WHERE t.ended_at IS NULL AND t.server_id <> $1
        AND NOT EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.application_name = $2 || t.server_id)
      ORDER BY t.started_at`,
    [serverId, LOCK_CONNECTION_PREFIX],
  );
  return rows;
}
