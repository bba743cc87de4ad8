/**
 * What `/health` reports beyond the database. Each capability fills in its own source when it is
 * wired (the socket registry, the MCP pool, the sandbox); missing sources report as empty.
 */
export interface McpServerHealth {
  total: number;
  available: number;
  healthy: boolean;
}

export interface HealthSources {
  websocket: () => { connections: number; sessions: number };
  mcp: () => Record<string, McpServerHealth>;
  llm: () => { provider: string; mode: string };
  codeInterpreter: () => { available: boolean };
  /** Several servers on one PostgreSQL (src/cluster): on or off, and this server's id. */
  cluster: () => { enabled: boolean; server_id?: string; listening?: boolean };
}

export function defaultHealthSources(llm: { provider: string; mode: string }): HealthSources {
  return {
    websocket: () => ({ connections: 0, sessions: 0 }),
    mcp: () => ({}),
    llm: () => llm,
    codeInterpreter: () => ({ available: false }),
    cluster: () => ({ enabled: false }),
  };
}
