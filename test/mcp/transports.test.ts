import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { McpManager } from '../../src/mcp/manager.js';
import { invokeTool, makeManager, tempDir, type TempDir } from './support.js';

/** A real Streamable HTTP MCP server on 127.0.0.1 with one tool that reports the auth header it saw. */
async function startHttpMcpServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http: Server = createServer((req: IncomingMessage, res) => {
    void (async () => {
      const sessionId = req.headers['mcp-session-id'];
      let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
      if (!transport) {
        const created = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => void sessions.set(id, created),
        });
        const server = new McpServer({ name: 'http-test', version: '1.0.0' });
        server.registerTool('whoami', { description: 'auth header seen', inputSchema: { greeting: z.string() } }, ({ greeting }, extra) => ({
          content: [{ type: 'text', text: `${greeting}, ${String(extra.requestInfo?.headers.authorization)}` }],
        }));
        await server.connect(created);
        transport = created;
      }
      await transport.handleRequest(req, res);
    })().catch(() => {
      res.statusCode = 500;
      res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`,
    async close() {
      await Promise.allSettled([...sessions.values()].map((t) => t.close()));
      http.closeAllConnections();
      await new Promise((resolve) => http.close(resolve));
    },
  };
}

describe('MCP transports', () => {
  let dir: TempDir | undefined;
  let manager: McpManager | undefined;
  let httpServer: { close(): Promise<void> } | undefined;

  afterEach(async () => {
    await manager?.close();
    await httpServer?.close();
    dir?.remove();
    manager = undefined;
    httpServer = undefined;
    dir = undefined;
  });

  it('the built-in sequential-thinking server starts from node_modules and answers', async () => {
    dir = tempDir();
    ({ manager } = makeManager(dir.dir, { fetch: { disabled: true } }));
    await manager.start();
    expect(manager.serverNames()).toEqual(['sequential-thinking']);
    const tools = await manager.toolsFor(['sequential-thinking']);
    const output = await invokeTool(tools, 'sequentialthinking', {
      thought: 'First, read the question.',
      thoughtNumber: 1,
      totalThoughts: 2,
      nextThoughtNeeded: true,
    });
    expect(JSON.parse(String(output))).toMatchObject({ thoughtNumber: 1, totalThoughts: 2, nextThoughtNeeded: true });
  });

  it('a Streamable HTTP server from the file is called with the configured headers', async () => {
    const server = await startHttpMcpServer();
    httpServer = server;
    dir = tempDir();
    ({ manager } = makeManager(dir.dir, { remote: { url: server.url, headers: { authorization: 'Bearer pulp-test' } } }, { builtins: false }));
    await manager.start();
    expect(manager.health()).toEqual({ remote: { total: 1, available: 1, healthy: true } });
    const tools = await manager.toolsFor(null);
    expect(await invokeTool(tools, 'whoami', { greeting: 'hello' })).toBe('hello, Bearer pulp-test');
  });
});
