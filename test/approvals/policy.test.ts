/** The approval policy of a call, for every origin, operator mode, MCP entry and session choice. */
import { tool } from '@openai/agents';
import { RunContext } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { operatorPolicy, resolvePolicy, type ApprovalPolicy, type McpApproval, type OperatorMode, type SessionPolicy, type ToolOrigin } from '../../src/approvals/policy.js';
import { gateTools, mcpSourced, workspaceSourced } from '../../src/approvals/tool-gate.js';
import { parseMcpConfig } from '../../src/mcp/config.js';

const workspace = (name: string): ToolOrigin => ({ kind: 'workspace', name });
const mcp = (approval?: McpApproval, name = 'search'): ToolOrigin => ({ kind: 'mcp', server: 'web', tool: name, exposed: `web__${name}`, approval });

describe('the operator policy (the ceiling)', () => {
  it.each<[string, OperatorMode, ApprovalPolicy]>([
    ['list_directory', 'ask', 'auto'],
    ['read_file', 'ask', 'auto'],
    ['search_files', 'ask', 'auto'],
    ['edit_file', 'ask', 'ask'],
    ['generate_document', 'ask', 'ask'],
    ['execute_python_code', 'ask', 'ask'],
    ['edit_file', 'auto', 'auto'],
    ['generate_document', 'auto', 'auto'],
    ['execute_python_code', 'auto', 'auto'],
    ['read_file', 'auto', 'auto'],
  ])('workspace tool %s under TOOL_APPROVAL=%s is %s', (name, mode, expected) => {
    expect(operatorPolicy(workspace(name), mode)).toBe(expected);
  });

  it.each<[string, McpApproval | undefined, OperatorMode, ApprovalPolicy]>([
    ['no entry settings, ask', undefined, 'ask', 'ask'],
    ['no entry settings, auto', undefined, 'auto', 'auto'],
    ['server auto under ask', { approval: 'auto', tools: {} }, 'ask', 'auto'],
    ['server ask under auto', { approval: 'ask', tools: {} }, 'auto', 'ask'],
    ['server deny under auto', { approval: 'deny', tools: {} }, 'auto', 'deny'],
    ['server deny under ask', { approval: 'deny', tools: {} }, 'ask', 'deny'],
    ['tool auto beats server ask', { approval: 'ask', tools: { search: 'auto' } }, 'ask', 'auto'],
    ['tool deny beats server auto', { approval: 'auto', tools: { search: 'deny' } }, 'auto', 'deny'],
    ['tool ask beats the mode auto', { tools: { search: 'ask' } }, 'auto', 'ask'],
    ['another tool of the server keeps the server policy', { approval: 'deny', tools: { other: 'auto' } }, 'ask', 'deny'],
    ['a tool named as the model sees it', { approval: 'ask', tools: { web__search: 'deny' } }, 'ask', 'deny'],
    ["the server's own name wins over the exposed one", { tools: { search: 'auto', web__search: 'deny' } }, 'ask', 'auto'],
  ])('MCP tool: %s', (_name, approval, mode, expected) => {
    expect(operatorPolicy(mcp(approval), mode)).toBe(expected);
  });
});

describe('a session under the ceiling', () => {
  const cases: Array<[ApprovalPolicy, SessionPolicy | undefined, ApprovalPolicy]> = [
    ['ask', undefined, 'ask'],
    ['ask', 'auto', 'auto'],
    ['ask', 'deny', 'deny'],
    ['auto', undefined, 'auto'],
    ['auto', 'auto', 'auto'],
    ['auto', 'deny', 'deny'],
    ['deny', undefined, 'deny'],
    ['deny', 'auto', 'deny'],
    ['deny', 'deny', 'deny'],
  ];
  it.each(cases)('operator %s + session %s = %s', (ceiling, session, expected) => {
    const origin = mcp({ approval: ceiling, tools: {} });
    for (const mode of ['ask', 'auto'] as const) expect(resolvePolicy(origin, mode, session)).toBe(expected);
  });

  it('"always allow" relaxes a workspace tool only where the operator asks', () => {
    expect(resolvePolicy(workspace('edit_file'), 'ask', 'auto')).toBe('auto');
    expect(resolvePolicy(workspace('edit_file'), 'ask', undefined)).toBe('ask');
    expect(resolvePolicy(workspace('read_file'), 'ask', 'deny')).toBe('deny');
  });
});

describe('gating the tools of a turn', () => {
  const make = (name: string) => tool({ name, description: name, parameters: z.object({}), execute: () => 'ran' });

  it('ask tools need approval, deny tools answer with a refusal and never run, auto tools are untouched', async () => {
    const ran = make('read_file');
    const [readFile, editFile, fetched] = gateTools(
      [workspaceSourced(ran), workspaceSourced(make('edit_file')), mcpSourced({ tool: make('fetch'), server: 'fetch', name: 'fetch', approval: { approval: 'deny', tools: {} } })],
      'ask',
      {},
    );
    expect(readFile).toBe(ran);
    expect(editFile?.type === 'function' && (await editFile.needsApproval(new RunContext(), {}, 'c'))).toBe(true);
    if (fetched?.type !== 'function') throw new Error('not a function tool');
    const refusal = await fetched.invoke(new RunContext(), '{}');
    expect(refusal).toContain('AUTH_1020');
    expect(refusal).toContain('"success":false');
  });

  it("the session's choices are read by exposed tool name", () => {
    const [edit] = gateTools([workspaceSourced(make('edit_file'))], 'ask', { edit_file: 'auto' });
    expect(edit?.type === 'function' && edit.needsApproval).toBeTruthy();
    return expect(edit?.type === 'function' ? edit.needsApproval(new RunContext(), {}, 'c') : undefined).resolves.toBe(false);
  });
});

describe('approval settings in mcpServers', () => {
  it('a server entry takes "approval" and per-tool "tools"', () => {
    const [entry] = parseMcpConfig(JSON.stringify({ mcpServers: { web: { command: 'web-mcp', approval: 'auto', tools: { post: 'deny' } } } }));
    expect(entry).toMatchObject({ kind: 'server', definition: { approval: { approval: 'auto', tools: { post: 'deny' } } } });
  });

  it('an entry with only approval settings changes a built-in server', () => {
    const [entry] = parseMcpConfig(JSON.stringify({ mcpServers: { fetch: { approval: 'auto' } } }));
    expect(entry).toMatchObject({ kind: 'approval', name: 'fetch', approval: { approval: 'auto' } });
  });

  it('a policy that is not auto, ask or deny is refused with the entry named', () => {
    expect(() => parseMcpConfig(JSON.stringify({ mcpServers: { web: { command: 'x', approval: 'sometimes' } } }))).toThrow(/mcpServers\.web\.approval/);
  });
});
