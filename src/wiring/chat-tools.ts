/**
 * The tools a chat's turn gets: the workspace tools of its session (files, the code interpreter
 * when the sandbox runs, its documents) and the tools of its MCP servers, each under the
 * approval policy of where it comes from.
 */
import type { ApprovalService } from '../approvals/approval-service.js';
import { mcpSourced, workspaceSourced } from '../approvals/tool-gate.js';
import type { ChatDeps } from '../chat/chat-service.js';
import type { Database } from '../db/database.js';
import type { Documents } from '../documents/documents.js';
import type { McpManager } from '../mcp/manager.js';
import type { PythonSandbox } from '../workspace/sandbox/sandbox.js';
import { workspaceToolset } from '../workspace/tools/workspace-tools.js';
import type { Workspace } from '../workspace/workspace.js';

export interface ChatToolDeps {
  db: Database;
  workspace: Workspace;
  /** The code interpreter; undefined when it is off or does not run here. */
  sandbox: PythonSandbox | undefined;
  documents: Documents;
  mcp: McpManager;
  approvals: ApprovalService;
}

/** A session's tools, as the chat service asks for them at the start of each turn. */
export function chatTools(deps: ChatToolDeps): ChatDeps['tools'] {
  const { db, workspace, sandbox, documents, mcp, approvals } = deps;
  const workspaceTools = workspaceToolset();
  return async (session) =>
    approvals.gate(session, [
      ...workspaceTools({
        root: workspace.root(session.session_id),
        sessionUuid: session.id,
        owner: session.user_id,
        db,
        sandbox,
        documents: {
          text: (folder, filename) => documents.text(session.id, folder, filename),
          search: (query, limit) => documents.search(session, query, limit),
        },
      }).map(workspaceSourced),
      ...(await mcp.sourcedToolsFor(session.mcp_config)).map(mcpSourced),
    ]);
}
