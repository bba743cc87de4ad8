/** A row of `sessions` as the database returns it. */
export interface SessionRow {
  id: string;
  user_id: string;
  session_id: string;
  title: string | null;
  is_named: boolean;
  model: string;
  reasoning_effort: string | null;
  mcp_config: string[] | null;
  /** The session's own system prompt; '' is the default one. */
  instructions: string;
  pinned: boolean;
  archived: boolean;
  message_count: number;
  turn_count: number;
  total_tokens: number;
  accumulated_tool_tokens: number;
  /** The newest message of the path the chat shows and the next turn follows (null: no messages). */
  active_leaf_id: string | null;
  created_at: Date;
  last_used_at: Date;
  /** The session's own tool policies (src/approvals, `SessionPolicies`); on rows read whole (`*`), absent on listings. */
  tool_approvals?: unknown;
  /**
   * The workspace's first file paths (`folder/filename`, at most `MAX_LISTED_FILES` + 1) for the
   * agent's instructions; on the row a turn's start statement returns, absent elsewhere.
   */
  listed_files?: string[];
  /**
   * Whether the session had context items before the turn; on the row a turn's start statement
   * returns (false: a chat's first turn, whose context is its own user item), absent elsewhere.
   */
  had_context?: boolean;
  /**
   * The owner's budget overrides (`users.quota`); on the row a turn's start statement returns, so
   * that a server without budgets need not read the ledger for a user who has none, absent elsewhere.
   */
  user_quota?: unknown;
  /** Tool calls waiting for a person (src/approvals); read by the session queries. */
  pending_approvals?: number;
}

/** Finds a session by its public id, only when `userId` owns it; `null` otherwise (a 404 either way). */
export type FindOwnedSession = (userId: string, publicId: string) => Promise<SessionRow | null>;

/** Settings a new session can take from a preset; null takes the server's default. */
export interface SessionDefaults {
  instructions: string;
  model: string | null;
  reasoning_effort: string | null;
  mcp_config: string[] | null;
  /** Libraries attached to the new session unless the request names its own. */
  library_ids: string[];
}

/** A preset's settings by id when `userId` owns it; `null` otherwise. */
export type FindOwnedPreset = (userId: string, presetId: string) => Promise<SessionDefaults | null>;
