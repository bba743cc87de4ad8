/**
 * Puts each tool of a turn under its policy: `ask` tools carry the SDK's `needsApproval` (the run
 * stops with an interruption before they run), `deny` tools answer with a refusal instead of
 * running, `auto` tools are left as they are.
 */
import type { Tool } from '@openai/agents';
import { errorResult } from '../workspace/tools/tool-result.js';
import { resolvePolicy, type ApprovalPolicy, type McpApproval, type OperatorMode, type SessionPolicies, type ToolOrigin } from './policy.js';

export interface SourcedTool {
  tool: Tool;
  origin: ToolOrigin;
}

/** The result the model gets for a tool the operator (or the session) does not allow. */
export function refusedByPolicyResult(name: string): string {
  return errorResult('AUTH_1020', `The tool "${name}" is not allowed here; it did not run. Do not call it again; tell the user if it was needed.`);
}

/** The result the model gets for a call a person denied, or nobody approved in time. */
export function deniedResult(decision: 'denied' | 'expired', by: string | null, reason: string | null, timeoutS: number): string {
  if (decision === 'expired') return errorResult('AUTH_1021', `Nobody approved this call within ${timeoutS} s; it did not run.`);
  const why = reason ? ` Reason: ${reason}` : '';
  return errorResult('AUTH_1021', `${by ?? 'The user'} denied this call; it did not run.${why}`);
}

function withPolicy(tool: Tool, policy: ApprovalPolicy): Tool {
  if (tool.type !== 'function' || policy === 'auto') return tool;
  if (policy === 'ask') return { ...tool, needsApproval: () => Promise.resolve(true) };
  return { ...tool, invoke: () => Promise.resolve(refusedByPolicyResult(tool.name)) };
}

/** The tools of one turn, each under the policy its origin, the operator's mode and the session give it. */
export function gateTools(tools: readonly SourcedTool[], mode: OperatorMode, session: SessionPolicies): Tool[] {
  return tools.map(({ tool, origin }) => withPolicy(tool, resolvePolicy(origin, mode, session[tool.name])));
}

/** A built-in workspace tool, with its origin. */
export function workspaceSourced(tool: Tool): SourcedTool {
  return { tool, origin: { kind: 'workspace', name: tool.name } };
}

/** A tool of an MCP server, with its origin and the server entry's approval settings. */
export function mcpSourced(t: { tool: Tool; server: string; name: string; approval: McpApproval | undefined }): SourcedTool {
  return { tool: t.tool, origin: { kind: 'mcp', server: t.server, tool: t.name, exposed: t.tool.name, approval: t.approval } };
}
