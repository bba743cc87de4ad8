/**
 * Writes an import: every conversation of a file checked and laid out first (no database work for
 * a bad file), then all of them in one transaction — sessions, rows with their parents, the
 * active leaf, counts and the model context — and their workspaces after the commit.
 */
import { randomUUID } from 'node:crypto';
import type { AgentInputItem } from '@openai/agents';
import type { Database, Queryable } from '../db/database.js';
import { MAX_INSTRUCTIONS_CHARS, REASONING_EFFORTS } from '../sessions/schemas.js';
import { deleteSession, insertSession } from '../sessions/session-store.js';
import { itemsOfRow } from './context-items.js';
import { importError, MAX_ROWS_PER_FILE, MAX_TITLE_CHARS, type SourceConversation } from './model.js';
import { checkJson, checkRows, checkText } from './text-checks.js';
import { placeRows, type PlacedTree } from './tree.js';

export interface ImportDeps {
  db: Database;
  models: string[];
  defaultModel: string;
  mcp: { unknownNames(names: string[]): string[]; defaultNames(): string[] };
  workspace: { create(publicId: string): Promise<void>; remove(publicId: string): Promise<void> };
}

/**
 * The tokens of imported context, estimated at 4 characters a token: exact counting of a pasted
 * text without spaces is quadratic in the tokenizer, and a file may hold megabytes of it. The
 * provider's count replaces the estimate after the first turn.
 */
export function estimateTokens(items: readonly AgentInputItem[]): number {
  return Math.ceil(JSON.stringify(items).length / 4);
}

interface PlacedItem {
  item: AgentInputItem;
  /** Index of the row it hangs on; null: every path. */
  row: number | null;
  summaryThrough: number | null;
}

/** One conversation ready to write. */
export interface PreparedSession {
  tree: PlacedTree;
  items: PlacedItem[];
  title: string | null;
  named: boolean;
  model: string;
  reasoningEffort: string | null;
  mcpConfig: string[] | null;
  instructions: string | null;
  createdAt: Date;
  lastUsedAt: Date;
  /** Tokens of the active path's context, estimated (the gauge, and when summarization starts). */
  totalTokens: number;
}

/**
 * Checks and lays out every conversation; throws the first problem (VAL_2033 / VAL_2034). A large
 * file takes a while, so it yields to other requests between conversations.
 */
export async function prepareImport(conversations: readonly SourceConversation[], deps: Pick<ImportDeps, 'models' | 'defaultModel' | 'mcp'>): Promise<PreparedSession[]> {
  let total = 0;
  const prepared: PreparedSession[] = [];
  for (const conversation of conversations) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const tree = placeRows(conversation);
    total += tree.rows.length;
    if (total > MAX_ROWS_PER_FILE) throw importError('VAL_2034', conversation.label, `the file holds more than ${MAX_ROWS_PER_FILE} messages; import it in parts`);
    checkRows(tree.rows, conversation.label);
    checkText(conversation.instructions, conversation.label, 'the instructions');
    if ((conversation.instructions?.length ?? 0) > MAX_INSTRUCTIONS_CHARS) {
      throw importError('VAL_2034', conversation.label, `the instructions are longer than ${MAX_INSTRUCTIONS_CHARS} characters`);
    }
    const title = conversation.title?.trim().slice(0, MAX_TITLE_CHARS) || null;
    checkText(title, conversation.label, 'the title');
    const items = placeItems(conversation, tree);
    const model = conversation.model !== null && deps.models.includes(conversation.model) ? conversation.model : deps.defaultModel;
    const onPath = pathRows(tree);
    const pathItems = items.filter((i) => i.row === null || onPath.has(i.row)).map((i) => i.item);
    const newest = tree.rows.reduce((max, r) => Math.max(max, r.row.createdAt.getTime()), conversation.createdAt.getTime());
    prepared.push({
      tree,
      items,
      title,
      named: title !== null && conversation.named,
      model,
      reasoningEffort: REASONING_EFFORTS.includes(conversation.reasoningEffort as (typeof REASONING_EFFORTS)[number]) ? conversation.reasoningEffort : null,
      mcpConfig: conversation.mcpConfig === null ? deps.mcp.defaultNames() : conversation.mcpConfig.filter((n) => deps.mcp.unknownNames([n]).length === 0),
      instructions: conversation.instructions,
      createdAt: conversation.createdAt,
      lastUsedAt: new Date(newest),
      totalTokens: estimateTokens(pathItems),
    });
  }
  return prepared;
}

function pathRows(tree: PlacedTree): Set<number> {
  const out = new Set<number>();
  for (let at = tree.activeLeaf; at !== null && !out.has(at); at = tree.rows[at]!.parent) out.add(at);
  return out;
}

function placeItems(conversation: SourceConversation, tree: PlacedTree): PlacedItem[] {
  if (conversation.context === null) {
    return tree.rows.flatMap((placed, index) => itemsOfRow(placed.row, `call_import_${index + 1}`).map((item) => ({ item, row: index, summaryThrough: null })));
  }
  const rowOf = new Map(tree.rows.map((r, index) => [`${r.nodeId}\u0000${r.indexInNode}`, index]));
  return conversation.context.map((c, i) => {
    checkJson(c.item, `${conversation.label}, context item ${i + 1}`, 'the item');
    const row = c.at === null ? null : rowOf.get(`${c.at.nodeId}\u0000${c.at.row}`);
    if (row === undefined) throw importError('VAL_2033', `${conversation.label}, context item ${i + 1}`, 'the message it hangs on is not imported');
    return { item: c.item, row, summaryThrough: c.summaryThrough };
  });
}

const INSERT_ROWS_SQL = `
INSERT INTO messages (id, session_id, seq, role, content, metadata, tool_call_id, tool_name, tool_arguments, tool_result, tool_success, reasoning, parent_id, created_at)
SELECT r.id, $1, r.seq, r.role, r.content, COALESCE(r.metadata, '{}'::jsonb), r.tool_call_id, r.tool_name, r.tool_arguments, r.tool_result,
       r.tool_success, r.reasoning, r.parent_id, r.created_at
FROM jsonb_to_recordset($2::jsonb) AS r(id uuid, seq bigint, role text, content text, metadata jsonb, tool_call_id text, tool_name text,
     tool_arguments jsonb, tool_result text, tool_success boolean, reasoning text, parent_id uuid, created_at timestamptz)`;

const INSERT_ITEMS_SQL = `
INSERT INTO llm_context (session_id, seq, item, message_id, summary_through_seq)
SELECT $1, r.seq, r.item, r.message_id, r.summary_through_seq
FROM jsonb_to_recordset($2::jsonb) AS r(seq bigint, item jsonb, message_id uuid, summary_through_seq bigint)`;

const FINISH_SQL = `UPDATE sessions SET active_leaf_id = $2, message_count = $3, total_tokens = $4, created_at = $5, last_used_at = $6
  WHERE id = $1`;

/** Rows per statement: bounded statements whatever the file holds. */
const CHUNK = 500;

async function insertChunks(tx: Queryable, sql: string, sessionUuid: string, records: readonly Record<string, unknown>[]): Promise<void> {
  for (let i = 0; i < records.length; i += CHUNK) await tx.query(sql, [sessionUuid, JSON.stringify(records.slice(i, i + CHUNK))]);
}

async function writeSession(tx: Queryable, userId: string, s: PreparedSession): Promise<{ id: string; session_id: string }> {
  const session = await insertSession(tx, { userId, title: s.title, isNamed: s.named, model: s.model, reasoningEffort: s.reasoningEffort, mcpConfig: s.mcpConfig, instructions: s.instructions ?? '' });
  const ids = s.tree.rows.map(() => randomUUID());
  await insertChunks(
    tx,
    INSERT_ROWS_SQL,
    session.id,
    s.tree.rows.map(({ row, parent }, i) => ({
      id: ids[i],
      seq: i + 1,
      role: row.role,
      content: row.content,
      metadata: row.metadata,
      tool_call_id: row.toolCallId,
      tool_name: row.toolName,
      tool_arguments: row.toolArguments,
      tool_result: row.toolResult,
      tool_success: row.toolSuccess,
      reasoning: row.reasoning,
      parent_id: parent === null ? null : ids[parent],
      created_at: row.createdAt.toISOString(),
    })),
  );
  await tx.query(FINISH_SQL, [
    session.id,
    s.tree.activeLeaf === null ? null : ids[s.tree.activeLeaf]!,
    s.tree.rows.length,
    s.totalTokens,
    s.createdAt,
    s.lastUsedAt,
  ]);
  await insertChunks(
    tx,
    INSERT_ITEMS_SQL,
    session.id,
    s.items.map((item, i) => ({ seq: i + 1, item: item.item, message_id: item.row === null ? null : ids[item.row], summary_through_seq: item.summaryThrough })),
  );
  return session;
}

/** Writes prepared sessions in one transaction, then makes their workspaces; returns their public ids in file order. */
export async function writeImport(deps: Pick<ImportDeps, 'db' | 'workspace'>, userId: string, prepared: readonly PreparedSession[]): Promise<string[]> {
  const sessions = await deps.db.transaction(async (tx) => {
    const written: { id: string; session_id: string }[] = [];
    for (const s of prepared) written.push(await writeSession(tx, userId, s));
    return written;
  });
  try {
    for (const s of sessions) await deps.workspace.create(s.session_id);
  } catch (err) {
    for (const s of sessions) {
      await deleteSession(deps.db, userId, s.id);
      await deps.workspace.remove(s.session_id);
    }
    throw err;
  }
  return sessions.map((s) => s.session_id);
}
