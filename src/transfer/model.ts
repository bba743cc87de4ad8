/**
 * What every import format is read into before anything is written: conversations of source
 * nodes, each node a chain of Pulp rows (zero rows: the node is skipped and its children follow
 * its nearest kept ancestor). The limits that bound a file, and the one error an import raises.
 */
import type { AgentInputItem } from '@openai/agents';
import { AppError, type ErrorCode } from '../errors/app-error.js';
import type { RowFlags } from '../chat/row-flags.js';

/** Conversations one file may hold. */
export const MAX_CONVERSATIONS = 2_000;
/** Source nodes one conversation may hold. */
export const MAX_NODES_PER_CONVERSATION = 10_000;
/** Rows one file may write, all conversations together. */
export const MAX_ROWS_PER_FILE = 100_000;
/** The longest path root → leaf. */
export const MAX_DEPTH = 5_000;
/** The longest text of one message, tool argument set or tool result, in characters. */
export const MAX_TEXT_CHARS = 1_000_000;
/** Titles longer than a session title may be are cut to this. */
export const MAX_TITLE_CHARS = 200;
/** Model context items one conversation may hold (Pulp's own format). */
export const MAX_CONTEXT_ITEMS = 50_000;

/** One `messages` row to write. */
export interface ImportRow {
  role: 'user' | 'assistant' | 'tool_call';
  content: string | null;
  reasoning: string | null;
  metadata: RowFlags;
  toolCallId: string | null;
  toolName: string | null;
  toolArguments: Record<string, unknown> | null;
  toolResult: string | null;
  toolSuccess: boolean | null;
  createdAt: Date;
}

/** A node of the source tree: its id in the file, its parent's, and the rows it becomes (in order). */
export interface SourceNode {
  id: string;
  parentId: string | null;
  rows: ImportRow[];
  /** Orders siblings and the seq of rows; nodes of the same time keep the file's order. */
  createdAt: Date;
}

/** A model context item hung on a row (by the row's index in its node) or on none (every path). */
export interface SourceContextItem {
  item: AgentInputItem;
  /** The source node and the index of the row in it; null: the item belongs to every path. */
  at: { nodeId: string; row: number } | null;
  /** Summary items: how many of the conversation's items (in order, 1-based) the summary covers. */
  summaryThrough: number | null;
}

export interface SourceConversation {
  /** Names the conversation in errors ("conversation 3 (Trip)"). */
  label: string;
  title: string | null;
  /** Whether the title was chosen (Pulp's `is_named`); a named session gets no generated title. */
  named: boolean;
  createdAt: Date;
  nodes: SourceNode[];
  /** The node whose last row becomes the active leaf (a skipped node: its nearest kept ancestor); null: the newest leaf. */
  currentNodeId: string | null;
  model: string | null;
  reasoningEffort: string | null;
  mcpConfig: string[] | null;
  instructions: string | null;
  /** Pulp's own format carries the model context; other formats get it built from the rows. */
  context: SourceContextItem[] | null;
  /**
   * Pulp's own file, taken as it is: rows in the file's order (already seq order, not sorted by
   * time) and no active leaf when the file has none.
   */
  exact?: boolean;
}

/** Raises the import error `code` naming where in the file: "conversation 3, node abc: …". */
export function importError(code: ErrorCode, where: string | undefined, message: string): AppError {
  const text = where ? `${where}: ${message}` : message;
  return new AppError(code, `The import file is not valid: ${text}`, [{ field: where ?? 'file', message }]);
}

/** A row with every optional column empty. */
export function row(role: ImportRow['role'], createdAt: Date, fields: Partial<ImportRow> = {}): ImportRow {
  return {
    role,
    content: null,
    reasoning: null,
    metadata: {},
    toolCallId: null,
    toolName: null,
    toolArguments: null,
    toolResult: null,
    toolSuccess: null,
    createdAt,
    ...fields,
  };
}

const MIN_TIME = Date.UTC(1970, 0, 1);
const MAX_TIME = Date.UTC(9999, 11, 31);

/** A time from seconds since 1970 (ChatGPT's floats), milliseconds, or ISO text; `fallback` when absent or absurd. */
export function timeOf(value: unknown, fallback: Date, unit: 'seconds' | 'auto' = 'auto'): Date {
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isFinite(value)) {
    // Seconds unless the number is too large to be seconds of a plausible date (then milliseconds).
    ms = unit === 'seconds' || value < 1e11 ? value * 1000 : value;
  } else if (typeof value === 'string' && value.length <= 64) {
    const parsed = Date.parse(value);
    if (Number.isFinite(parsed)) ms = parsed;
  }
  if (ms === undefined || ms < MIN_TIME || ms > MAX_TIME) return fallback;
  return new Date(Math.round(ms));
}
