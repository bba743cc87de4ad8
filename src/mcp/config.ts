/**
 * MCP server configuration: the common `mcpServers` JSON format, validated with zod,
 * merged over the built-in servers. Stdio servers take `command/args/env/cwd`, Streamable HTTP
 * servers take `url/headers`; either may carry `description` and `disabled`.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { ApprovalPolicySchema, McpApprovalSchema, type ApprovalPolicy, type McpApproval } from '../approvals/policy.js';
import { McpConfigError } from './errors.js';

/** Server names become tool-name prefixes, so they keep to the characters tool names allow. */
export const ServerNameSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,48}$/, 'server names use letters, digits, "_" and "-" (at most 48)');

const approvalKeys = {
  /** `auto` | `ask` | `deny` for every tool of the server (src/approvals). */
  approval: ApprovalPolicySchema.optional(),
  /** Per-tool policies by the server's own tool names. */
  tools: z.record(z.string().max(200), ApprovalPolicySchema).optional(),
};

const common = {
  description: z.string().max(1000).optional(),
  disabled: z.boolean().optional(),
  ...approvalKeys,
};

/** An entry that only sets a built-in server's approval: `{"fetch": {"approval": "auto"}}`. */
const ApprovalEntrySchema = z.strictObject({ ...approvalKeys, description: z.string().optional() });

function approvalOf(e: { approval?: ApprovalPolicy | undefined; tools?: Record<string, ApprovalPolicy> | undefined }): { approval?: McpApproval } {
  if (e.approval === undefined && e.tools === undefined) return {};
  return { approval: { ...(e.approval ? { approval: e.approval } : {}), tools: e.tools ?? {} } };
}

const StdioEntrySchema = z.object({
  type: z.literal('stdio').optional(),
  command: z.string().min(1, 'command must not be empty'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  cwd: z.string().min(1).optional(),
  ...common,
});

const HttpEntrySchema = z.object({
  type: z.enum(['http', 'streamable-http', 'streamableHttp']).optional(),
  url: z.url({ protocol: /^https?$/, error: 'url must be an http(s) URL' }),
  headers: z.record(z.string(), z.string()).default({}),
  ...common,
});

/** An entry that only switches a built-in server off: `{"fetch": {"disabled": true}}`. */
const DisableEntrySchema = z.object({ disabled: z.literal(true), description: z.string().optional() });

export const TransportSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('stdio'),
    command: z.string(),
    args: z.array(z.string()),
    env: z.record(z.string(), z.string()),
    cwd: z.string().optional(),
  }),
  z.object({ kind: z.literal('http'), url: z.string(), headers: z.record(z.string(), z.string()) }),
]);
export type Transport = z.infer<typeof TransportSchema>;

/** One server as the pool sees it, after merging the file over the built-ins. */
export const ServerDefinitionSchema = z.object({
  name: ServerNameSchema,
  description: z.string(),
  enabled: z.boolean(),
  builtin: z.boolean(),
  transport: TransportSchema,
  /** Approval policies from the entry (src/approvals); absent: the operator's mode decides. */
  approval: McpApprovalSchema.optional(),
});
export type ServerDefinition = z.infer<typeof ServerDefinitionSchema>;

type Entry =
  | { kind: 'server'; definition: ServerDefinition }
  | { kind: 'disable'; name: string }
  | { kind: 'approval'; name: string; approval: McpApproval };

function issuesText(prefix: string, error: z.ZodError): string {
  return error.issues
    .map((i) => `${[prefix, ...i.path.map(String)].join('.')}: ${i.message}`)
    .join('; ');
}

function parseEntry(name: string, raw: unknown): Entry {
  const where = `mcpServers.${name}`;
  const nameCheck = ServerNameSchema.safeParse(name);
  if (!nameCheck.success) throw new McpConfigError(undefined, `${where}: ${nameCheck.error.issues[0]?.message}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new McpConfigError(undefined, `${where}: must be an object`);
  }
  const record = raw as Record<string, unknown>;
  if (record.type === 'sse') {
    throw new McpConfigError(undefined, `${where}: the SSE transport is not supported; use Streamable HTTP ("url") or stdio ("command")`);
  }
  if ('command' in record && 'url' in record) {
    throw new McpConfigError(undefined, `${where}: give either "command" (stdio) or "url" (Streamable HTTP), not both`);
  }
  if ('command' in record) {
    const parsed = StdioEntrySchema.safeParse(record);
    if (!parsed.success) throw new McpConfigError(undefined, issuesText(where, parsed.error));
    const e = parsed.data;
    return {
      kind: 'server',
      definition: {
        name,
        description: e.description ?? `MCP server "${name}" (${e.command})`,
        enabled: e.disabled !== true,
        builtin: false,
        transport: { kind: 'stdio', command: e.command, args: e.args, env: e.env, ...(e.cwd ? { cwd: e.cwd } : {}) },
        ...approvalOf(e),
      },
    };
  }
  if ('url' in record) {
    const parsed = HttpEntrySchema.safeParse(record);
    if (!parsed.success) throw new McpConfigError(undefined, issuesText(where, parsed.error));
    const e = parsed.data;
    return {
      kind: 'server',
      definition: {
        name,
        description: e.description ?? `MCP server "${name}" (${new URL(e.url).host})`,
        enabled: e.disabled !== true,
        builtin: false,
        transport: { kind: 'http', url: e.url, headers: e.headers },
        ...approvalOf(e),
      },
    };
  }
  if (DisableEntrySchema.safeParse(record).success) return { kind: 'disable', name };
  const approvalOnly = ApprovalEntrySchema.safeParse(record);
  if (approvalOnly.success && (approvalOnly.data.approval !== undefined || approvalOnly.data.tools !== undefined)) {
    return { kind: 'approval', name, approval: approvalOf(approvalOnly.data).approval ?? { tools: {} } };
  }
  throw new McpConfigError(undefined, `${where}: needs "command" (stdio) or "url" (Streamable HTTP)`);
}

/** Parses the text of an `mcpServers` file; throws `McpConfigError` naming the bad entry. */
export function parseMcpConfig(text: string, file?: string): Entry[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new McpConfigError(file, `not valid JSON (${(err as Error).message})`);
  }
  const top = z.object({ mcpServers: z.record(z.string(), z.unknown()) }).safeParse(json);
  if (!top.success) throw new McpConfigError(file, 'must be an object with an "mcpServers" object');
  try {
    return Object.entries(top.data.mcpServers).map(([name, raw]) => parseEntry(name, raw));
  } catch (err) {
    if (err instanceof McpConfigError && file) throw new McpConfigError(file, err.message.replace(/^Invalid MCP configuration: /, ''));
    throw err;
  }
}

/**
 * The servers Pulp runs: `builtins`, then the file's servers (a file entry with a built-in's name
 * replaces it; `{"disabled": true}` switches it off). Throws `McpConfigError` for a missing,
 * unreadable or invalid file, and for a disable-only entry that names no built-in.
 */
export function loadServerDefinitions(configPath: string | undefined, builtins: ServerDefinition[]): ServerDefinition[] {
  const byName = new Map(builtins.map((b) => [b.name, b]));
  if (configPath === undefined) return [...byName.values()];
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (err) {
    throw new McpConfigError(configPath, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, { cause: err });
  }
  for (const entry of parseMcpConfig(text, configPath)) {
    if (entry.kind === 'server') {
      byName.set(entry.definition.name, entry.definition);
      continue;
    }
    const existing = byName.get(entry.name);
    if (existing && entry.kind === 'approval') {
      byName.set(entry.name, { ...existing, approval: entry.approval });
      continue;
    }
    if (!existing) {
      throw new McpConfigError(configPath, `mcpServers.${entry.name}: needs "command" (stdio) or "url" (Streamable HTTP)`);
    }
    byName.set(entry.name, { ...existing, enabled: false });
  }
  return [...byName.values()];
}
