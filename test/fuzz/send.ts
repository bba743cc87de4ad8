/** Sends one fuzz input of any kind to the target and checks the answer (shared by the fuzzers and the corpus). */
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { expect } from 'vitest';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/app-error.js';
import { createWorkspaceTools, type WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import type { ToolInput, UploadInput } from './file-inputs.js';
import type { RestInput } from './rest-requests.js';
import { authHeader, expectSafeAnswer, fillPlaceholders, rawRequest, sendablePath, type RawResponse, type Target } from './target.js';

export async function sendRest(target: Target, input: RestInput): Promise<RawResponse> {
  const url = sendablePath(fillPlaceholders(input.url, target));
  const headers: Record<string, string> = { ...authHeader(target, input.auth), ...(input.contentType ? { 'content-type': input.contentType } : {}) };
  const body = input.body === undefined ? undefined : Buffer.from(fillPlaceholders(input.body, target), 'utf8');
  const res = await rawRequest(target.port, input.method, url, headers, body);
  expectSafeAnswer(target, res, `${input.method} ${url} ${input.body?.slice(0, 200) ?? ''}`);
  return res;
}

export async function sendUpload(target: Target, input: UploadInput): Promise<RawResponse> {
  const url = sendablePath(`/api/v1/sessions/${fillPlaceholders(input.session, target)}/files${input.query}`);
  const body = Buffer.from(fillPlaceholders(input.body, target), 'utf8');
  const res = await rawRequest(target.port, 'POST', url, { ...authHeader(target, 'access'), 'content-type': input.contentType }, body);
  expectSafeAnswer(target, res, `upload ${url} ${input.contentType} ${JSON.stringify(input.body.slice(0, 300))}`);
  return res;
}

/** User A's workspace tools, called as a turn would call them. */
export async function toolsOfA(target: Target): Promise<Map<string, WorkspaceTool>> {
  const db = target.server.database.db;
  const { rows } = await db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [target.a.sessionId]);
  const root = path.join(target.server.dataDir, 'sessions', target.a.sessionId);
  const tools = createWorkspaceTools({ root, sessionUuid: rows[0]!.id, db, sandbox: undefined });
  return new Map(tools.map((tool) => [tool.name, tool]));
}

/** Calls a tool; the result must be a JSON tool result, an error with a registered code, and free of B's data. */
export async function callTool(target: Target, tools: Map<string, WorkspaceTool>, input: ToolInput): Promise<boolean> {
  const tool = tools.get(input.name);
  if (!tool) throw new Error(`no tool ${input.name}`);
  const args = JSON.stringify(input.arguments) ?? 'null';
  const label = `${input.name} ${fillPlaceholders(args, target).slice(0, 300)}`;
  const out = String(await tool.invoke(new RunContext(), fillPlaceholders(args, target)));
  expect(out.includes(target.marker), `another user's data from ${label}: ${out.slice(0, 300)}`).toBe(false);
  const result = JSON.parse(out) as { success?: unknown; error?: { code?: string } };
  expect(typeof result.success, `${label}: ${out.slice(0, 300)}`).toBe('boolean');
  if (result.success === false) {
    const status = ERROR_CODES[result.error?.code as ErrorCode]?.status;
    expect(status, `${label}: ${out.slice(0, 300)}`).toBeDefined();
    expect(status, `${label}: ${out.slice(0, 300)}`).toBeLessThan(500);
  }
  return result.success === true;
}
