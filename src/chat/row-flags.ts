/**
 * The flags a turn keeps in `messages.metadata`, in one typed place: the turn, the orphan sweeper
 * and `toMessage` (the wire `partial` and `status`) all read and write these.
 */
import { z } from 'zod';
import { rowWeight } from '../db/shared-statement.js';

export const MessageStatusSchema = z.enum(['completed', 'failed', 'interrupted', 'awaiting_approval', 'denied']);

/** A tool call's approval as its row records it (src/approvals): who decided what, and when. */
export const ApprovalRecordSchema = z.object({
  decision: z.enum(['pending', 'approved', 'denied', 'expired', 'interrupted']),
  by: z.string().nullable(),
  at: z.string().nullable(),
  reason: z.string().nullable(),
  expires_at: z.string(),
});
export type ApprovalRecord = z.infer<typeof ApprovalRecordSchema>;
export type MessageStatus = z.infer<typeof MessageStatusSchema>;

// A type alias, not an interface: rows pass it as a jsonb parameter (a plain record).
export type RowFlags = {
  /** Assistant text that was cut: still streaming, interrupted, or failed. */
  partial?: true;
  /** Why a row ended early; null on a tool row while its tool runs. */
  status?: 'interrupted' | 'failed' | null;
  /** The text is still being streamed: a server that dies leaves the row like this. */
  streaming?: true;
  /** A tool call that an interrupt cut before it returned. */
  interrupted?: true;
  /** A tool call that needed a person's approval. */
  approval?: ApprovalRecord;
  /** The files sent with a user message. */
  attachments?: Array<{ file: string; content_type: string; size: number }>;
};

/** A whole assistant segment, or a tool row whose tool returned. */
export const DONE: RowFlags = {};
/** An assistant segment at a checkpoint, still streaming. */
export const STREAMING: RowFlags = { partial: true, status: 'interrupted', streaming: true };
/** A tool row whose tool is running. */
export const RUNNING: RowFlags = { status: null };
/** A tool row cut by an interrupt. */
export const TOOL_INTERRUPTED: RowFlags = { interrupted: true, status: 'interrupted' };

/** An assistant segment cut by an interrupt or an error. */
export function cutText(status: 'interrupted' | 'failed'): RowFlags {
  return { partial: true, status };
}

/**
 * The wire status of a row: a tool row is completed/failed by `tool_success`, interrupted when
 * cut, null while it runs; an assistant row is null when whole, and interrupted (or failed, after
 * an error) when partial; user rows are null.
 */
export function statusOf(role: 'user' | 'assistant' | 'tool_call', flags: RowFlags, toolSuccess: boolean | null): MessageStatus | null {
  const declared = MessageStatusSchema.safeParse(flags.status);
  if (role === 'tool_call') {
    if (flags.interrupted === true) return 'interrupted';
    if (flags.approval?.decision === 'pending' && toolSuccess === null) return 'awaiting_approval';
    if (flags.approval?.decision === 'denied' || flags.approval?.decision === 'expired') return 'denied';
    if (toolSuccess === null) return declared.success ? declared.data : null;
    return toolSuccess ? 'completed' : 'failed';
  }
  if (role === 'assistant' && flags.partial === true) return declared.success ? declared.data : 'interrupted';
  return null;
}

/**
 * Whether a row's text is indexed for search as it is written: a user's or an assistant's row that
 * is not streaming, as the generated `search_vector` column has it (src/search/language.ts).
 */
function isSearchIndexed(role: string, flags: RowFlags | undefined): boolean {
  return (role === 'user' || role === 'assistant') && flags?.streaming !== true;
}

/**
 * A written row's share of a shared statement (`rowWeight`): its `content` counts as text indexed
 * for search when the row is indexed as it is written; `otherChars` (reasoning, a tool's result) never is.
 */
export function rowWriteWeight(role: string, flags: RowFlags | undefined, contentChars: number, otherChars: number): number {
  return isSearchIndexed(role, flags) ? rowWeight(otherChars, contentChars) : rowWeight(otherChars + contentChars);
}
