/**
 * The start of the common turn — one new message after the session's active leaf — written for
 * many turns in one statement: the user's row, its context item and the session counted, for
 * every turn starting while the previous statement was in flight. A thousand chats starting at
 * once then cost a few statements instead of six each (a transaction of five), and a lone turn
 * one statement instead of six. Edits, regenerates and several messages at once take the general
 * path (`saveUserWords`), and so do two turns of one chat in one batch, or a batch whose statement
 * fails, one turn at a time (`sessionRows`).
 *
 * A new message ends its session's paused turn (one waiting for tool approvals) before it is
 * saved. Almost no session has one, so the shared statement passes over a session that does, and
 * only that turn ends the pause and takes the general path: the common turn asks nothing first.
 */
import type { AgentInputItem } from '@openai/agents';
import { setImmediate } from 'node:timers/promises';
import type { Database } from '../db/database.js';
import { KeyedReads } from '../db/keyed-reads.js';
import { INDEXED_TEXT_WEIGHT, sessionRows, valueOf, type Settled } from '../db/shared-statement.js';
import type { SessionRow } from '../sessions/types.js';
import { toStorableJson, toStorableText } from '../util/storable-text.js';
import { FOLLOW } from './branch.js';
import { ACTIVE_LEAF } from './context-paths.js';
import { activeItemsAt } from './context-store.js';
import { MAX_LISTED_FILES } from './instructions.js';
import { saveUserWords } from './user-words.js';
import type { TurnRequest } from './turn.js';

type StartRequest = Pick<TurnRequest, 'sessionUuid' | 'contents' | 'model' | 'reasoningEffort' | 'branch' | 'attachments'>;
type CountTokens = (model: string, items: AgentInputItem[]) => number;

/** Ends the session's paused turn, if it has one (its events go before this turn's). */
export type EndPaused = () => Promise<void>;

interface Start {
  req: StartRequest;
  item: AgentInputItem;
  endPaused: EndPaused;
}

/** A session the shared statement passed over: it has a paused turn to end first, or it is gone. */
class PassedOver extends Error {}

/** What a turn start reads with the session row `s` (`SessionRow`): its file names, whether it had context, its owner's quota. */
const turnStartColumns = (s: string): string => `ARRAY(
  SELECT f.folder || '/' || f.filename FROM files f WHERE f.session_id = ${s}.id ORDER BY f.folder, f.filename LIMIT ${MAX_LISTED_FILES + 1}
) AS listed_files, EXISTS (SELECT 1 FROM llm_context x WHERE x.session_id = ${s}.id) AS had_context,
  (SELECT u.quota FROM users u WHERE u.id = ${s}.user_id) AS user_quota`;

// The rows locked in id order (two batches never wait for each other in a cycle). Every CTE sees
// the rows as they were before the statement: the new row's seq is the session's MAX + 1, and the
// session is updated once, from the locked row. The workspace's file names for the instructions
// come back with each row, which spares the turn a statement of its own, and so do whether the
// session had any context item before (none: a chat's first turn, whose context is its own item)
// and the owner's budget overrides (a server without budgets then reads no ledger for a user without any).
// A session with a paused turn is passed over (no row comes back for it).
const START_MANY_SQL = `
WITH req AS (
  SELECT r.ord, r.session_id::uuid AS session_id, r.content, r.metadata::jsonb AS metadata, r.item::jsonb AS item, r.model, r.effort
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[])
    WITH ORDINALITY AS r(session_id, content, metadata, item, model, effort, ord)
),
locked AS MATERIALIZED (
  SELECT s.id, s.active_leaf_id FROM sessions s
  WHERE s.id IN (SELECT session_id FROM req) AND NOT EXISTS (SELECT 1 FROM paused_turns p WHERE p.session_id = s.id)
  ORDER BY s.id FOR UPDATE
),
msg AS (
  INSERT INTO messages (session_id, seq, role, content, metadata, parent_id)
  SELECT req.session_id, (SELECT COALESCE(MAX(m.seq), 0) + 1 FROM messages m WHERE m.session_id = req.session_id),
    'user', req.content, req.metadata, locked.active_leaf_id
  FROM req JOIN locked ON locked.id = req.session_id
  RETURNING id, session_id
),
ctx AS (
  INSERT INTO llm_context (session_id, seq, item, message_id)
  SELECT msg.session_id, (SELECT COALESCE(MAX(c.seq), 0) + 1 FROM llm_context c WHERE c.session_id = msg.session_id), req.item, msg.id
  FROM msg JOIN req ON req.session_id = msg.session_id
),
counted AS (
  UPDATE sessions s SET message_count = s.message_count + 1, turn_count = s.turn_count + 1, last_used_at = now(),
    model = COALESCE(req.model, s.model), reasoning_effort = COALESCE(req.effort, s.reasoning_effort), active_leaf_id = msg.id
  FROM msg JOIN req ON req.session_id = msg.session_id
  WHERE s.id = msg.session_id
  RETURNING s.*
)
SELECT c.*, ${turnStartColumns('c')}
FROM counted c`;

/**
 * A turn start's share of a statement's work (`rowWeight`'s units), beside four times its text: a
 * burst of a thousand short messages goes in statements of about 450 (some 80 ms of the database's
 * thread), a burst of pasted pages in statements of about fifteen. PGlite runs statements on a thread of
 * its own, so a long one holds only the statements behind it, while every statement of a burst
 * waits for the busy event loop to take its answer: in few statements, a thousand turns started
 * within 0.6 s instead of 2 s (`npm run bench:streams -- 1000`, docs/benchmarks.md).
 */
const TURN_START_WEIGHT = 100;

/** The turn starts made together share one statement (`sessionRows`). */
const starts = sessionRows<Start, SessionRow, Database>({
  session: (s) => s.req.sessionUuid,
  // The user's words are indexed for search as they go in.
  weigh: ({ req }) => TURN_START_WEIGHT + INDEXED_TEXT_WEIGHT * (req.contents[0]?.length ?? 0),
  many: async (db, batch) => {
    const { rows } = await db.query<SessionRow>(START_MANY_SQL, columnsOf(batch));
    const byId = new Map(rows.map((r) => [r.id, r]));
    return batch.map(({ req }): Settled<SessionRow> => {
      const session = byId.get(req.sessionUuid);
      return session ? { value: session } : { error: new PassedOver() };
    });
  },
  // After the active leaf: no branch's token total to count.
  one: async (db, { req, item, endPaused }) => {
    await endPaused();
    return saveUserWords(db, req, [item]);
  },
});

function columnsOf(starts: readonly Start[]): Array<Array<string | null>> {
  const column = (pick: (s: Start) => string | null) => starts.map(pick);
  return [
    column((s) => s.req.sessionUuid),
    column((s) => toStorableText(s.req.contents[0] ?? '')),
    column((s) => JSON.stringify(s.req.attachments ? { attachments: s.req.attachments.stored } : {})),
    column((s) => toStorableJson(s.item)),
    column((s) => s.req.model ?? null),
    column((s) => s.req.reasoningEffort ?? null),
  ];
}

/** Whether a turn starts with one message after the active leaf (the shared statement's turns). */
function isFollowUp(req: StartRequest, userItems: readonly AgentInputItem[]): boolean {
  return (req.branch ?? FOLLOW).kind === 'follow' && req.contents.length === 1 && userItems.length === 1 && userItems[0] !== undefined;
}

/**
 * Saves the user's words before the turn's first event, as `saveUserWords` does, once the
 * session's paused turn (if any) has ended: through a shared statement for one message after the
 * active leaf, through `saveUserWords` otherwise. Throws SES_4001 when the session is gone.
 */
export async function startTurnRows(
  db: Database,
  req: StartRequest,
  userItems: AgentInputItem[],
  count?: CountTokens,
  endPaused: EndPaused = async () => undefined,
): Promise<SessionRow> {
  const item = userItems[0];
  if (isFollowUp(req, userItems) && item !== undefined) {
    const started = await starts.call(db, { req, item, endPaused });
    if (!('error' in started && started.error instanceof PassedOver)) return valueOf(started);
  }
  await endPaused();
  return saveUserWords(db, req, userItems, count);
}

/** A started turn: the session its model call is made with, and the save of the user's words. */
export interface OpenedTurn {
  /** The session as the model call needs it, with the message's model and effort. */
  session: SessionRow;
  /** The user's words saved: the session row after it, as `startTurnRows` gives it. */
  saved: Promise<SessionRow>;
  /**
   * The session's context before the user's words, read before they are saved, when it had any;
   * undefined when something else was saved meanwhile (read the context after the save instead).
   */
  earlier?: Promise<AgentInputItem[] | undefined>;
}

type BeforeRow = SessionRow & { key: string; paused: boolean; path_leaf: string | null };

// A session as its next message will find it, for many turns at once: the row, what the start
// statement returns with it, whether a turn waits for approvals, and the leaf its context path
// ends at.
const sessionsBefore = new KeyedReads<BeforeRow>(`
SELECT k.id AS key, s.*, ${turnStartColumns('s')},
  EXISTS (SELECT 1 FROM paused_turns p WHERE p.session_id = s.id) AS paused, ${ACTIVE_LEAF('s.id')} AS path_leaf
FROM unnest($1::text[]) AS k(id) JOIN sessions s ON s.id = k.id::uuid`);

/**
 * Turns streaming on the server below which a new turn reads its session before it saves the
 * user's words (`openTurn`). The read is one statement more: on a busy database every other turn
 * waits for it too (a thousand turns sent at once saw their first delta's p99 rise from 0.82 to
 * 0.99 s), while on an idle one it takes the save's time off the model request.
 */
export const READ_FIRST_BELOW = 16;

/**
 * Starts a turn. With `readFirst`, one message after the active leaf of a session without a paused
 * turn is read first, and its words are saved while the model call is made: the call needs the
 * session and its context as they were before the words, plus the words, and the save is a write
 * of several rows (on the embedded database 1.0 ms a statement in isolation and 1.7–2 ms in a
 * server, against 0.7 and 1.0–1.3 ms for the read). Nothing of the turn is said or written before
 * the save ends (see `runTurn`). Any other turn is saved first (`startTurnRows`).
 */
export async function openTurn(
  db: Database,
  req: StartRequest,
  userItems: AgentInputItem[],
  options: { readFirst: boolean; count?: CountTokens; endPaused?: EndPaused },
): Promise<OpenedTurn> {
  const { count, endPaused = async () => undefined } = options;
  const before = options.readFirst && isFollowUp(req, userItems) ? (await sessionsBefore.read(db, req.sessionUuid))[0] : undefined;
  if (!before || before.paused) {
    const session = await startTurnRows(db, req, userItems, count, endPaused);
    return { session, saved: Promise.resolve(session) };
  }
  const { key: _key, paused: _paused, path_leaf, ...row } = before;
  // Asked before the save, so that on a one-connection database it runs first.
  const earlier = row.had_context ? activeItemsAt(db, req.sessionUuid, path_leaf) : undefined;
  const saved = startTurnRows(db, req, userItems, count, endPaused);
  for (const pending of [earlier, saved]) pending?.catch(() => undefined); // awaited by the turn, or not if it fails first
  // Their statements go out at the loop's next turn (shared with other turns'): let them go before
  // the model call's preparation holds the loop for a millisecond or more, so the save runs beside it.
  await setImmediate();
  const session = { ...row, model: req.model ?? row.model, reasoning_effort: req.reasoningEffort ?? row.reasoning_effort };
  return { session, saved, ...(earlier ? { earlier } : {}) };
}
