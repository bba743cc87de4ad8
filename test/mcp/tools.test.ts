import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent, type FunctionTool } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { McpManager } from '../../src/mcp/manager.js';
import { parseToolError } from '../../src/mcp/tool-adapter.js';
import { EVERYTHING_BIN, fixture, invokeTool, makeManager, nodeServer, tempDir, type TempDir } from './support.js';

describe('MCP tools through agent tool objects', () => {
  let dir: TempDir;
  let manager: McpManager;
  let web: Server;
  let baseUrl: string;
  let tools: FunctionTool[];

  beforeAll(async () => {
    dir = tempDir();
    web = createServer((req, res) => {
      if (req.url === '/article') {
        res.setHeader('content-type', 'text/html; charset=utf-8');
        res.end(
          '<html><head><title>Pulp test page</title><script>var hidden = 1;</script></head>' +
            '<body><h1>Fresh oranges</h1><p>Squeeze <b>twice</b> &amp; serve <a href="/more">cold</a>.</p></body></html>',
        );
      } else if (req.url === '/hop') {
        res.statusCode = 302;
        res.setHeader('location', '/article');
        res.end();
      } else {
        res.statusCode = 404;
        res.end('missing');
      }
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;
    ({ manager } = makeManager(dir.dir, {
      everything: { ...nodeServer(EVERYTHING_BIN, 'stdio'), description: 'reference server' },
      silent: nodeServer(fixture('silent-server.mjs')),
      'sequential-thinking': { disabled: true },
    }, { fetchAllowedHosts: '127.0.0.1' }));
    await manager.start();
    tools = await manager.toolsFor(null);
  });

  afterAll(async () => {
    await manager?.close();
    await new Promise((resolve) => web?.close(resolve));
    dir?.remove();
  });

  it('calling echo of server-everything returns what it echoes', async () => {
    expect(await invokeTool(tools, 'everything__echo', { message: 'hello pulp' })).toBe('Echo: hello pulp');
  });

  it('the tools can be given to an agent as they are', () => {
    const agent = new Agent({ name: 'pulp', instructions: 'test', tools });
    expect(agent.tools).toHaveLength(tools.length);
    expect(tools.every((t) => t.type === 'function' && t.strict === false)).toBe(true);
  });

  it('a tool whose name no one else uses keeps its own name', async () => {
    expect(await invokeTool(tools, 'get_sum', { a: 2, b: 3 })).toMatch(/5/);
  });

  it('tools that clash between servers or with built-in tool names get their server as prefix', () => {
    const names = tools.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['everything__echo', 'silent__echo', 'silent__read_file', 'wait_forever', 'fetch']));
    expect(names).not.toContain('echo');
    expect(names).not.toContain('read_file');
    expect(new Set(names).size).toBe(names.length);
  });

  it('the fetch server returns a local page as readable text without its scripts', async () => {
    const text = await invokeTool(tools, 'fetch', { url: `${baseUrl}/hop` });
    expect(text).toContain(`Contents of ${baseUrl}/article — Pulp test page`);
    expect(text).toContain('# Fresh oranges');
    expect(text).toContain(`Squeeze **twice** & serve [cold](${baseUrl}/more).`);
    expect(text).not.toContain('hidden');
  });

  it('the fetch server refuses an internal address the operator did not allow, and says how to allow it', async () => {
    const port = new URL(baseUrl).port;
    for (const url of [`http://[::1]:${port}/article`, `http://0.0.0.0:${port}/article`, 'http://169.254.169.254/latest/meta-data/']) {
      const output = await invokeTool(tools, 'fetch', { url });
      expect(parseToolError(output)?.message, url).toMatch(/is private\/internal .* an operator can allow it with FETCH_ALLOWED_HOSTS/);
    }
  });

  it('a page that answers 404 comes back as an error result the turn can go on from', async () => {
    const output = await invokeTool(tools, 'fetch', { url: `${baseUrl}/nowhere` });
    expect(parseToolError(output)).toEqual({ code: 'EXT_7020', message: expect.stringContaining('HTTP 404') });
  });

  it('a long page is returned in parts, with the offset to read on', async () => {
    const text = String(await invokeTool(tools, 'fetch', { url: `${baseUrl}/article`, max_length: 10 }));
    expect(text).toContain('call fetch with start_index=10 to read on');
    const next = String(await invokeTool(tools, 'fetch', { url: `${baseUrl}/article`, max_length: 10, start_index: 10 }));
    expect(next).toContain('call fetch with start_index=20');
  });

  it('a session with no servers gets no tools, and one server gives only its tools', async () => {
    expect(await manager.toolsFor([])).toEqual([]);
    const only = (await manager.toolsFor(['silent'])).map((t) => t.name).sort();
    expect(only).toEqual(['silent__echo', 'silent__read_file', 'wait_forever']);
  });

  it('unknown and disabled server names are reported by validateNames', () => {
    expect(manager.validateNames(['nope', 'everything', 'sequential-thinking'])).toEqual(['nope', 'sequential-thinking']);
    expect(manager.validateNames(['fetch', 'silent'])).toEqual([]);
  });

  it('the servers are described for /config, the disabled one included', () => {
    expect(manager.serverNames()).toEqual(['fetch', 'everything', 'silent']);
    expect(manager.describeServers()).toEqual(
      expect.arrayContaining([
        { id: 'everything', name: 'everything', description: 'reference server', enabled: true },
        expect.objectContaining({ id: 'sequential-thinking', enabled: false }),
        expect.objectContaining({ id: 'fetch', enabled: true }),
      ]),
    );
  });

  it('health reports each running server with its live and free instances', () => {
    expect(manager.health()).toEqual({
      fetch: { total: 1, available: 1, healthy: true },
      everything: { total: 1, available: 1, healthy: true },
      silent: { total: 1, available: 1, healthy: true },
    });
  });

  it('a server that announces a changed tool list has its new tools offered on the next request', async () => {
    const changing = makeManager(dir.dir, { changing: nodeServer(fixture('changing-server.mjs')) }, { builtins: false });
    try {
      await changing.manager.start();
      const before = await changing.manager.toolsFor(null);
      expect(before.map((t) => t.name)).toEqual(['add_tool']);
      expect(await invokeTool(before, 'add_tool', {})).toBe('added');
      const after = await changing.manager.toolsFor(null);
      expect(after.map((t) => t.name)).toEqual(['add_tool', 'added']);
      expect(await invokeTool(after, 'added', {})).toBe('I am new');
    } finally {
      await changing.manager.close();
    }
  });
});
