/**
 * What a share link shows: a copy of the session's active path at the moment it was shared —
 * title, model, and each message's role, text, reasoning, tool call and time. No ids, no workspace
 * files, nothing later.
 */
import { z } from 'zod';
import { statusOf } from '../chat/row-flags.js';
import { MessageStatusSchema } from '../chat/row-flags.js';
import type { SessionRow } from '../sessions/types.js';
import type { TreeRow } from '../transfer/session-tree.js';

export const SharedMessageSchema = z.object({
  role: z.enum(['user', 'assistant', 'tool_call']),
  content: z.string().nullable(),
  reasoning: z.string().nullable(),
  tool_name: z.string().nullable(),
  tool_arguments: z.record(z.string(), z.unknown()).nullable(),
  tool_result: z.string().nullable(),
  status: MessageStatusSchema.nullable(),
  created_at: z.string(),
});

export const ShareSnapshotSchema = z.object({
  title: z.string().nullable(),
  model: z.string(),
  /** When the link was made: the snapshot's moment. */
  shared_at: z.string(),
  messages: z.array(SharedMessageSchema),
});
export type ShareSnapshot = z.infer<typeof ShareSnapshotSchema>;

export function takeSnapshot(session: SessionRow, path: readonly TreeRow[], now: Date): ShareSnapshot {
  return {
    title: session.title,
    model: session.model,
    shared_at: now.toISOString(),
    messages: path.map((r) => ({
      role: r.role,
      content: r.content,
      reasoning: r.reasoning ?? null,
      tool_name: r.tool_name,
      tool_arguments: r.tool_arguments,
      tool_result: r.tool_result,
      status: statusOf(r.role, r.metadata ?? {}, r.tool_success),
      created_at: (r.created_at instanceof Date ? r.created_at : new Date(r.created_at)).toISOString(),
    })),
  };
}
