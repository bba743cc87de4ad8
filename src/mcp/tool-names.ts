/**
 * How MCP tools are named for the model: as given, unless the name clashes with a
 * built-in tool or with a tool of another server — then every clashing tool is prefixed with its
 * server's name (`server__tool`), so the result does not depend on which server started first.
 * Names are reduced to what model APIs accept: `[A-Za-z0-9_-]`, at most 64 characters.
 */

/** Names of Pulp's own tools; an MCP tool never shadows them. */
export const BUILTIN_TOOL_NAMES: ReadonlySet<string> = new Set([
  'list_directory',
  'read_file',
  'search_files',
  'edit_file',
  'generate_document',
  'execute_python_code',
  'summarize_conversation',
]);

const MAX_NAME = 64;

function sanitize(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, MAX_NAME);
  return clean.length > 0 ? clean : 'tool';
}

export interface ServerToolNames {
  server: string;
  tools: string[];
}

/**
 * Maps each server's tool names to the names the model sees: `result.get(server).get(tool)`.
 * Every exposed name is unique across all the servers given and the built-in names.
 */
export function assignToolNames(servers: ServerToolNames[]): Map<string, Map<string, string>> {
  const owners = new Map<string, number>();
  for (const { tools } of servers) {
    for (const tool of new Set(tools.map(sanitize))) owners.set(tool, (owners.get(tool) ?? 0) + 1);
  }
  const taken = new Set(BUILTIN_TOOL_NAMES);
  const result = new Map<string, Map<string, string>>();
  for (const { server, tools } of servers) {
    const names = new Map<string, string>();
    for (const tool of tools) {
      const plain = sanitize(tool);
      const clashes = BUILTIN_TOOL_NAMES.has(plain) || (owners.get(plain) ?? 0) > 1;
      const base = clashes ? sanitize(`${server}__${tool}`) : plain;
      // Cutting to 64 characters or replacing characters can still collide; number the rest.
      let exposed = base;
      for (let n = 2; taken.has(exposed); n++) exposed = `${base.slice(0, MAX_NAME - String(n).length - 1)}_${n}`;
      taken.add(exposed);
      names.set(tool, exposed);
    }
    result.set(server, names);
  }
  return result;
}
