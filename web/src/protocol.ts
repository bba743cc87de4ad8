/**
 * The server's wire shapes as the client reads them (REST and WebSocket; docs/protocol.md), as zod/mini
 * schemas (a fraction of classic zod's bundle size). Loose on purpose: extra fields a newer server
 * adds are ignored, never fatal.
 */
import * as z from 'zod/mini';

export const SessionSchema = z.object({
  id: z.string(),
  session_id: z.string(),
  title: z.nullable(z.string()),
  is_named: z.boolean(),
  model: z.string(),
  reasoning_effort: z.nullable(z.string()),
  mcp_config: z.nullable(z.array(z.string())),
  /** The chat's own system prompt ('' is the default one). */
  instructions: z.optional(z.string()),
  pinned: z.boolean(),
  archived: z.optional(z.boolean()),
  message_count: z.number(),
  total_tokens: z.number(),
  max_tokens: z.number(),
  trigger_tokens: z.number(),
  last_used_at: z.string(),
  /** Tool calls waiting for the user's approval (absent from servers without approval). */
  pending_approvals: z.optional(z.number()),
});
export type Session = z.infer<typeof SessionSchema>;

export const SessionListSchema = z.object({
  sessions: z.array(SessionSchema),
  pagination: z.object({ total_count: z.number(), has_more: z.boolean() }),
});

export const SearchResultSchema = z.object({
  session_id: z.string(),
  title: z.nullable(z.string()),
  archived: z.boolean(),
  message_id: z.nullable(z.string()),
  role: z.nullable(z.enum(['user', 'assistant'])),
  created_at: z.string(),
  /** Plain text; `highlights` are [start, end) offsets into it (UTF-16 code units). */
  snippet: z.string(),
  highlights: z.array(z.tuple([z.number(), z.number()])),
});
export type SearchResult = z.infer<typeof SearchResultSchema>;
export const SearchAnswerSchema = z.object({ results: z.array(SearchResultSchema), next_cursor: z.nullable(z.string()) });

export const PresetSchema = z.object({
  id: z.string(),
  name: z.string(),
  instructions: z.string(),
  model: z.nullable(z.string()),
  reasoning_effort: z.nullable(z.string()),
  mcp_config: z.nullable(z.array(z.string())),
});
export type Preset = z.infer<typeof PresetSchema>;
export const PresetListSchema = z.object({ presets: z.array(PresetSchema) });

export const MessageSchema = z.object({
  id: z.string(),
  seq: z.number(),
  role: z.enum(['user', 'assistant', 'tool_call']),
  content: z.nullable(z.string()),
  partial: z.boolean(),
  tool_call_id: z.nullable(z.string()),
  tool_name: z.nullable(z.string()),
  tool_arguments: z.nullable(z.record(z.string(), z.unknown())),
  tool_result: z.nullable(z.string()),
  tool_success: z.nullable(z.boolean()),
  status: z.nullable(z.enum(['completed', 'failed', 'interrupted', 'awaiting_approval', 'denied'])),
  /** A tool call that needed approval: who decided what, and when. */
  approval: z.optional(
    z.nullable(z.object({ decision: z.string(), by: z.nullable(z.string()), at: z.nullable(z.string()), reason: z.nullable(z.string()), expires_at: z.string() })),
  ),
  /** The model's reasoning before this assistant text; absent from servers that do not store it. */
  reasoning: z.optional(z.nullable(z.string())),
  /** The message this one follows in the conversation tree (null: the first of its path). */
  parent_id: z.optional(z.nullable(z.string())),
  /** Its parent's children, oldest first, itself included: the versions a user can switch between. */
  sibling_ids: z.optional(z.array(z.string())),
  /** The files sent with a user message. */
  attachments: z.optional(z.array(z.object({ file: z.string(), content_type: z.string(), size: z.number() }))),
});
export type Message = z.infer<typeof MessageSchema>;

export const SessionDetailSchema = z.object({
  session: SessionSchema,
  messages: z.array(MessageSchema),
  has_more: z.boolean(),
});
export type SessionDetail = z.infer<typeof SessionDetailSchema>;

export const MessagePageSchema = z.object({
  messages: z.array(MessageSchema),
  pagination: z.object({ has_more: z.boolean() }),
});

export const FileEntrySchema = z.object({
  name: z.string(),
  type: z.enum(['file', 'folder']),
  size: z.optional(z.nullable(z.number())),
  path: z.string(),
});
export type FileEntry = z.infer<typeof FileEntrySchema>;
export const FileListSchema = z.object({ files: z.array(FileEntrySchema) });

export const PublicConfigSchema = z.object({
  models: z.array(z.object({ value: z.string(), label: z.string(), isDefault: z.boolean(), context_window: z.number() })),
  mcp_servers: z.array(z.object({ id: z.string(), name: z.string(), description: z.string(), enabled: z.boolean() })),
  max_file_size: z.number(),
  max_import_size: z.optional(z.number()),
  sharing: z.optional(z.boolean()),
  auth_mode: z.enum(['none', 'jwt']),
  allow_registration: z.optional(z.boolean()),
  password_login: z.optional(z.boolean()),
  oidc: z.optional(z.object({ enabled: z.boolean(), name: z.optional(z.string()) })),
  version: z.string(),
});
export type PublicConfig = z.infer<typeof PublicConfigSchema>;

export const TokenPairSchema = z.object({ access_token: z.string(), refresh_token: z.string() });
export type TokenPair = z.infer<typeof TokenPairSchema>;

/** `GET /auth/me` (jwt mode): who is signed in, and whether they may open the admin page. */
export const MeSchema = z.object({ id: z.string(), email: z.string(), display_name: z.nullable(z.string()), role: z.enum(['admin', 'user']) });
export type Me = z.infer<typeof MeSchema>;

/** One API key as `GET /api-keys` lists it: never the secret. */
export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  created_at: z.string(),
  last_used_at: z.nullable(z.string()),
  expires_at: z.nullable(z.string()),
});
export type ApiKey = z.infer<typeof ApiKeySchema>;
export const ApiKeyListSchema = z.object({ api_keys: z.array(ApiKeySchema) });
/** `POST /api-keys`: the only answer that carries the secret (`key`). */
export const ApiKeyCreatedSchema = z.object({ ...ApiKeySchema.shape, key: z.string() });

/** A user's budgets: null is no budget. Tokens are input + output; costs are USD. */
export const BudgetLimitsSchema = z.object({
  tokens_per_day: z.nullable(z.number()),
  tokens_per_month: z.nullable(z.number()),
  cost_per_day: z.nullable(z.number()),
  cost_per_month: z.nullable(z.number()),
});
export type BudgetLimits = z.infer<typeof BudgetLimitsSchema>;

/** An administrator's overrides of one user's budgets: absent is the default, null is none. */
export const QuotaOverrideSchema = z.object({
  tokens_per_day: z.optional(z.nullable(z.number())),
  tokens_per_month: z.optional(z.nullable(z.number())),
  cost_per_day: z.optional(z.nullable(z.number())),
  cost_per_month: z.optional(z.nullable(z.number())),
});
export type QuotaOverride = z.infer<typeof QuotaOverrideSchema>;

/** One account as the admin API shows it. */
export const AdminUserSchema = z.object({
  id: z.string(),
  email: z.string(),
  display_name: z.nullable(z.string()),
  role: z.enum(['admin', 'user']),
  disabled: z.boolean(),
  created_at: z.string(),
  session_count: z.number(),
  quota: z.optional(QuotaOverrideSchema),
  budgets: z.optional(BudgetLimitsSchema),
});
export type AdminUser = z.infer<typeof AdminUserSchema>;
export const AdminUserPageSchema = z.object({
  users: z.array(AdminUserSchema),
  pagination: z.object({ total_count: z.number(), offset: z.number(), limit: z.number(), has_more: z.boolean() }),
});

/** Usage totals of a range or of one group (`GET /usage`, `GET /admin/usage`). */
const usageTotals = {
  calls: z.number(),
  input_tokens: z.number(),
  cached_input_tokens: z.number(),
  output_tokens: z.number(),
  reasoning_tokens: z.number(),
  total_tokens: z.number(),
  cost: z.nullable(z.number()),
  unpriced_calls: z.number(),
};
export const UsageGroupSchema = z.object({ ...usageTotals, key: z.nullable(z.string()), label: z.nullable(z.string()) });
export type UsageGroup = z.infer<typeof UsageGroupSchema>;
export const UsageReportSchema = z.object({
  from: z.string(),
  to: z.string(),
  group_by: z.string(),
  totals: z.object(usageTotals),
  groups: z.array(UsageGroupSchema),
  has_more: z.boolean(),
  budget: z.optional(
    z.object({
      limits: BudgetLimitsSchema,
      used: z.object({ day_tokens: z.number(), day_cost: z.number(), month_tokens: z.number(), month_cost: z.number() }),
      resets: z.object({ day: z.string(), month: z.string() }),
    }),
  ),
});
export type UsageReport = z.infer<typeof UsageReportSchema>;

export const ErrorEnvelopeSchema = z.object({
  error: z.object({ code: z.string(), message: z.string(), request_id: z.optional(z.string()) }),
});

const turn = { session_id: z.optional(z.string()), turn_id: z.optional(z.string()), seq: z.optional(z.number()) };

/** Server → client events. Unknown types fail to parse and are ignored by the caller. */
export const ServerEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('assistant_start'), ...turn }),
  z.object({ type: z.literal('assistant_delta'), content: z.string(), ...turn }),
  z.object({ type: z.literal('reasoning_delta'), content: z.string(), ...turn }),
  z.object({ type: z.literal('function_detected'), tool_call_id: z.string(), tool_name: z.string(), ...turn }),
  z.object({ type: z.literal('function_call_arguments_delta'), tool_call_id: z.string(), delta: z.string(), ...turn }),
  z.object({
    type: z.literal('function_executing'),
    tool_call_id: z.string(),
    tool_name: z.string(),
    tool_arguments: z.record(z.string(), z.unknown()),
    ...turn,
  }),
  z.object({
    type: z.literal('function_completed'),
    tool_call_id: z.string(),
    tool_name: z.string(),
    tool_result: z.string(),
    tool_success: z.boolean(),
    interrupted: z.optional(z.boolean()),
    ...turn,
  }),
  z.object({ type: z.literal('token_usage'), current: z.number(), limit: z.number(), threshold: z.number(), ...turn }),
  z.object({ type: z.literal('stream_interrupted'), ...turn }),
  z.object({
    type: z.literal('approval_required'),
    tool_call_id: z.string(),
    tool_name: z.string(),
    tool_arguments: z.record(z.string(), z.unknown()),
    expires_at: z.string(),
    ...turn,
  }),
  z.object({ type: z.literal('approval_resolved'), tool_call_id: z.string(), decision: z.string(), by: z.string(), ...turn }),
  z.object({ type: z.literal('assistant_end'), finish_reason: z.string(), ...turn }),
  z.looseObject({ type: z.literal('session_updated'), title: z.optional(z.nullable(z.string())), session_id: z.optional(z.string()) }),
  z.object({ type: z.literal('error'), code: z.string(), message: z.string(), recoverable: z.optional(z.boolean()), ...turn }),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('server_shutdown'), message: z.optional(z.string()) }),
]);
export type ServerEvent = z.infer<typeof ServerEventSchema>;

export type ClientFrame =
  | { type: 'message'; messages: Array<{ content: string }>; parent_id?: string | null; attachments?: Array<{ file: string }> }
  | { type: 'regenerate'; message_id: string }
  | { type: 'interrupt' }
  | { type: 'resume'; turn_id: string; after_seq: number }
  | { type: 'approve'; tool_call_id: string; always?: boolean }
  | { type: 'deny'; tool_call_id: string; reason?: string }
  | { type: 'ping' };

/** The tool name of the summarization card. */
export const SUMMARY_TOOL = 'summarize_conversation';

/** A share link as listed (the token only in the answer to its creation). */
export const ShareSchema = z.object({ id: z.string(), created_at: z.string(), title: z.nullable(z.string()), message_count: z.number() });
export type Share = z.infer<typeof ShareSchema>;
export const ShareListSchema = z.object({ shares: z.array(ShareSchema) });
export const CreatedShareSchema = z.object({ id: z.string(), created_at: z.string(), title: z.nullable(z.string()), message_count: z.number(), token: z.string(), url: z.string() });
export const ImportResultSchema = z.object({ session_ids: z.array(z.string()) });
