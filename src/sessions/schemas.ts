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
  instructions: z.string(),
  pinned: z.boolean(),
  archived: z.boolean(),
  message_count: z.number().int(),
  turn_count: z.number().int(),
  total_tokens: z.number().int(),
  max_tokens: z.number().int(),
  trigger_tokens: z.number().int(),
  created_at: z.string(),
  last_used_at: z.string(),
  /** Tool calls of the session waiting for a person's approval. */
  pending_approvals: z.number().int(),
});
export type Session = z.infer<typeof SessionSchema>;

/** The longest instructions (a session's own system prompt) accepted, in characters. */
export const MAX_INSTRUCTIONS_CHARS = 20_000;

const Title = z.string().trim().min(1).max(200);
export const McpNamesSchema = z.array(z.string().min(1).max(100)).max(50);
export const ModelSchema = z.string().trim().min(1).max(200);
/** '' (or only whitespace) means the default system prompt. */
export const InstructionsSchema = z.string().max(MAX_INSTRUCTIONS_CHARS, `must be at most ${MAX_INSTRUCTIONS_CHARS} characters`);
/** Libraries the session searches (src/documents); replaced as a whole. */
export const LibraryIdsSchema = z.array(z.string().max(64)).max(50);

export const CreateSessionBodySchema = z
  .object({
    title: Title.optional(),
    model: ModelSchema.optional(),
    reasoning_effort: ReasoningEffortSchema.optional(),
    mcp_config: McpNamesSchema.optional(),
    instructions: InstructionsSchema.optional(),
    /** Copies the preset's settings; the fields given here win over the preset's. */
    preset_id: z.string().min(1).max(100).optional(),
    library_ids: LibraryIdsSchema.optional(),
  })
  .strict();
export type CreateSessionBody = z.infer<typeof CreateSessionBodySchema>;

export const UpdateSessionBodySchema = z
  .object({
    title: Title.optional(),
    pinned: z.boolean().optional(),
    model: ModelSchema.optional(),
    reasoning_effort: ReasoningEffortSchema.nullable().optional(),
    mcp_config: McpNamesSchema.nullable().optional(),
    instructions: InstructionsSchema.optional(),
    archived: z.boolean().optional(),
    library_ids: LibraryIdsSchema.optional(),
  })
  .strict();
export type UpdateSessionBody = z.infer<typeof UpdateSessionBodySchema>;

export const ListSessionsQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  /** `true` lists only archived sessions; the default lists the others. */
  archived: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export const SessionParamsSchema = z.object({ id: z.string().min(1).max(100) });

export const GetSessionQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) });

export const ListMessagesQuerySchema = z.object({
  offset: z.coerce.number().int().min(0).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  before_seq: z.coerce.number().int().min(1).optional(),
  /** Another path: from the root to this message, then down along its newest child to a leaf. */
  leaf_id: z.string().min(1).max(100).optional(),
});

export const SetActiveLeafBodySchema = z.strictObject({ message_id: z.string().min(1).max(100) });

export const PaginationSchema = z.object({
  total_count: z.number().int(),
  offset: z.number().int(),
  limit: z.number().int(),
  has_more: z.boolean(),
});
