import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { builtinServers } from '../../src/mcp/builtins.js';
import { loadServerDefinitions, parseMcpConfig } from '../../src/mcp/config.js';
import { McpConfigError } from '../../src/mcp/errors.js';
import { makeManager, tempDir, type TempDir } from './support.js';

function configError(text: string): string {
  try {
    parseMcpConfig(text, 'mcp.json');
  } catch (err) {
    expect(err).toBeInstanceOf(McpConfigError);
    return (err as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('MCP configuration', () => {
  let dir: TempDir | undefined;
  afterEach(() => {
    dir?.remove();
    dir = undefined;
  });

  it('with no file, the built-in servers sequential-thinking and fetch are offered, started from node_modules', () => {
    const servers = loadServerDefinitions(undefined, builtinServers());
    expect(servers.map((s) => [s.name, s.enabled, s.builtin])).toEqual([
      ['sequential-thinking', true, true],
      ['fetch', true, true],
    ]);
    for (const s of servers) {
      expect(s.transport).toMatchObject({ kind: 'stdio', command: process.execPath });
    }
    expect(JSON.stringify(servers)).not.toContain('npx');
  });

  it('a file adds stdio and Streamable HTTP servers, overrides a built-in by name and can switch one off', () => {
    dir = tempDir();
    const file = path.join(dir.dir, 'mcp.json');
    writeFileSync(
      file,
      JSON.stringify({
        mcpServers: {
          files: { command: 'node', args: ['server.js'], env: { TOKEN: 'x' } },
          remote: { type: 'http', url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer t' } },
          fetch: { command: 'my-fetch' },
          'sequential-thinking': { disabled: true },
        },
      }),
    );
    const servers = loadServerDefinitions(file, builtinServers());
    expect(servers.map((s) => [s.name, s.enabled])).toEqual([
      ['sequential-thinking', false],
      ['fetch', true],
      ['files', true],
      ['remote', true],
    ]);
    expect(servers[1]).toMatchObject({ builtin: false, transport: { kind: 'stdio', command: 'my-fetch', args: [], env: {} } });
    expect(servers[2]?.transport).toEqual({ kind: 'stdio', command: 'node', args: ['server.js'], env: { TOKEN: 'x' } });
    expect(servers[3]?.transport).toEqual({ kind: 'http', url: 'https://mcp.example.com/mcp', headers: { authorization: 'Bearer t' } });
  });

  it('invalid files are refused with a message naming the file and the entry', () => {
    expect(configError('{oops')).toMatch(/^Invalid MCP configuration \(mcp\.json\): not valid JSON/);
    expect(configError('{"servers": {}}')).toContain('must be an object with an "mcpServers" object');
    expect(configError('{"mcpServers": {"a": {"args": []}}}')).toContain('mcpServers.a: needs "command" (stdio) or "url" (Streamable HTTP)');
    expect(configError('{"mcpServers": {"a": {"command": "x", "args": "y"}}}')).toContain('mcpServers.a.args:');
    expect(configError('{"mcpServers": {"a": {"url": "ftp://x"}}}')).toContain('mcpServers.a.url: url must be an http(s) URL');
    expect(configError('{"mcpServers": {"a": {"type": "sse", "url": "http://x"}}}')).toContain('SSE transport is not supported');
    expect(configError('{"mcpServers": {"a": {"command": "x", "url": "http://x"}}}')).toContain('not both');
    expect(configError('{"mcpServers": {"bad name!": {"command": "x"}}}')).toContain('server names use letters');
    expect(configError('{"mcpServers": {"a": []}}')).toContain('mcpServers.a: must be an object');
  });

  it('a missing file, or a switch-off entry for a server that does not exist, stops startup', () => {
    dir = tempDir();
    expect(() => loadServerDefinitions(path.join(dir!.dir, 'absent.json'), [])).toThrow(/absent\.json\): cannot be read \(ENOENT\)/);
    const file = path.join(dir.dir, 'mcp.json');
    writeFileSync(file, '{"mcpServers": {"ghost": {"disabled": true}}}');
    expect(() => loadServerDefinitions(file, builtinServers())).toThrow(McpConfigError);
  });

  it('the manager refuses an invalid file when it is constructed, before anything starts', () => {
    dir = tempDir();
    expect(() => makeManager(dir!.dir, { a: { url: 'not a url' } })).toThrow(McpConfigError);
  });
});
