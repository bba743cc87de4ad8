/** The wire shapes of sessions: request bodies, queries and the `Session` answer. */
import { z } from 'zod';

export const REASONING_EFFORTS = ['none', 'low', 'medium', 'high'] as const;
export const ReasoningEffortSchema = z.enum(REASONING_EFFORTS);

export const SessionSchema = z.object({
  id: z.string(),
  session_id: z.string(),
  title: z.string().nullable(),
  is_named: z.boolean(),
  model: z.string(),
  reasoning_effort: ReasoningEffortSchema.nullable(),
  mcp_config: z.array(z.string()).nullable(),
  pinned: z.boolean(),
  message_count: z.number().int(),
  turn_count: z.number().int(),
  total_tokens: z.number().int(),
  max_tokens: z.number().int(),
  trigger_tokens: z.number().int(),
  created_at: z.string(),
  last_used_at: z.string(),
});
export type Session = z.infer<typeof SessionSchema>;

const Title = z.string().trim().min(1).max(200);
const McpNames = z.array(z.string().min(1).max(100)).max(50);
const Model = z.string().trim().min(1).max(200);
/** Libraries the session searches (src/documents); replaced as a whole. */
const LibraryIds = z.array(z.string().max(64)).max(50);

export const CreateSessionBodySchema = z
  .object({
    title: Title.optional(),
    model: Model.optional(),
    reasoning_effort: ReasoningEffortSchema.optional(),
    mcp_config: McpNames.optional(),
    library_ids: LibraryIds.optional(),
  })
  .strict();
export type CreateSessionBody = z.infer<typeof CreateSessionBodySchema>;

export const UpdateSessionBodySchema = z
  .object({
    title: Title.optional(),
    pinned: z.boolean().optional(),
    model: Model.optional(),
    reasoning_effort: ReasoningEffortSchema.nullable().optional(),
    mcp_config: McpNames.nullable().optional(),
    library_ids: LibraryIds.optional(),
  })
  .strict();
export type UpdateSessionBody = z.infer<typeof UpdateSessionBodySchema>;

export const ListSessionsQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const SessionParamsSchema = z.object({ id: z.string().min(1).max(100) });

export const GetSessionQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) });

export const ListMessagesQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before_seq: z.coerce.number().int().min(1).optional(),
});

export const PaginationSchema = z.object({
  total_count: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  has_more: z.boolean(),
});
