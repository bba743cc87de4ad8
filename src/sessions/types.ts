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
  pinned: boolean;
  message_count: number;
  turn_count: number;
  total_tokens: number;
  accumulated_tool_tokens: number;
  created_at: Date;
  last_used_at: Date;
  /** Tool calls waiting for a person (src/approvals); read by the session queries. */
  pending_approvals?: number;
}

/** Finds a session by its public id, only when `userId` owns it; `null` otherwise (a 404 either way). */
export type FindOwnedSession = (userId: string, publicId: string) => Promise<SessionRow | null>;
