/**
 * Which tool calls a person must approve, as one pure function: the tool's origin (a built-in
 * workspace tool or a tool of an MCP server), the operator's mode (`TOOL_APPROVAL`), the MCP
 * server's entry (`"approval"`, `"tools": {name: policy}`) and the session's own choices
 * ("always allow in this chat") give `auto`, `ask` or `deny`.
 */
import { z } from 'zod';

export const ApprovalPolicySchema = z.enum(['auto', 'ask', 'deny']);
/** `auto` runs the call, `ask` pauses the turn for a person, `deny` never runs it (the model is told). */
export type ApprovalPolicy = z.infer<typeof ApprovalPolicySchema>;

/** `TOOL_APPROVAL`: `ask` = the defaults below; `auto` = nothing asks unless an MCP entry says so. */
export const OperatorModeSchema = z.enum(['ask', 'auto']);
export type OperatorMode = z.infer<typeof OperatorModeSchema>;

/** What a session may set for a tool: relax `ask` to `auto`, or refuse it (`deny`). */
export const SessionPolicySchema = z.enum(['auto', 'deny']);
export type SessionPolicy = z.infer<typeof SessionPolicySchema>;
/** `sessions.tool_approvals`: exposed tool name → the session's choice. */
export const SessionPoliciesSchema = z.record(z.string(), SessionPolicySchema);
export type SessionPolicies = z.infer<typeof SessionPoliciesSchema>;

/** The approval settings of one MCP server entry. */
export const McpApprovalSchema = z.object({
  /** The server's policy; the operator's mode decides when absent. */
  approval: ApprovalPolicySchema.optional(),
  /** Per-tool policies by the server's own tool names (or the names the model sees); they win over `approval`. */
  tools: z.record(z.string(), ApprovalPolicySchema).default({}),
});
export type McpApproval = z.infer<typeof McpApprovalSchema>;

/**
 * Built-in workspace tools that change files or run code. The read-only ones (`list_directory`,
 * `read_file`, `search_files`, `search_documents`) never ask.
 */
export const DANGEROUS_WORKSPACE_TOOLS: ReadonlySet<string> = new Set(['edit_file', 'generate_document', 'execute_python_code']);

export type ToolOrigin =
  | { kind: 'workspace'; name: string }
  /** `tool` is the server's own name for it; `exposed` the name the model sees (`get_sum`, `server__tool`). */
  | { kind: 'mcp'; server: string; tool: string; exposed: string; approval: McpApproval | undefined };

/** The operator's policy for a tool, before any session choice: the ceiling a session lives under. */
export function operatorPolicy(origin: ToolOrigin, mode: OperatorMode): ApprovalPolicy {
  const fallback: ApprovalPolicy = mode === 'ask' ? 'ask' : 'auto';
  if (origin.kind === 'workspace') return DANGEROUS_WORKSPACE_TOOLS.has(origin.name) ? fallback : 'auto';
  const tools = origin.approval?.tools ?? {};
  return tools[origin.tool] ?? tools[origin.exposed] ?? origin.approval?.approval ?? fallback;
}

/**
 * The policy of one call. A session may only relax `ask` to `auto` (never a `deny` of the operator
 * or of an MCP entry), and may always refuse a tool (`deny`).
 */
export function resolvePolicy(origin: ToolOrigin, mode: OperatorMode, session: SessionPolicy | undefined): ApprovalPolicy {
  const ceiling = operatorPolicy(origin, mode);
  if (session === 'deny') return 'deny';
  if (session === 'auto' && ceiling === 'ask') return 'auto';
  return ceiling;
}
