import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { McpManager } from '../../src/mcp/manager.js';
import { parseToolError } from '../../src/mcp/tool-adapter.js';
import { EVERYTHING_BIN, fixture, invokeTool, isAlive, makeManager, nodeServer, steppedClock, tempDir, type TempDir } from './support.js';

describe('the MCP instance pool', () => {
  let dir: TempDir | undefined;
  let manager: McpManager | undefined;

  afterEach(async () => {
    await manager?.close();
    dir?.remove();
    manager = undefined;
    dir = undefined;
  });

  function setup(servers: Record<string, unknown>, overrides: Parameters<typeof makeManager>[2] = {}) {
    dir ??= tempDir();
    const made = makeManager(dir.dir, servers, { builtins: false, ...overrides });
    manager = made.manager;
    return made;
  }

  it('five callers at once on a pool of one instance all complete', async () => {
    const { manager } = setup({ everything: nodeServer(EVERYTHING_BIN, 'stdio') });
    await manager.start();
    const tools = await manager.toolsFor(['everything']);
    const results = await Promise.all([1, 2, 3, 4, 5].map((n) => invokeTool(tools, 'echo', { message: `caller ${n}` })));
    expect(results).toEqual([1, 2, 3, 4, 5].map((n) => `Echo: caller ${n}`));
    expect(manager.poolStats().get('everything')).toMatchObject({ total: 1, available: 1, leased: 0, waiting: 0 });
  });

  it('after kill -9 of its instance the next call still succeeds and the restart is counted', async () => {
    const clock = steppedClock(true);
    const { manager, registry } = setup({ everything: nodeServer(EVERYTHING_BIN, 'stdio') }, { clock });
    await manager.start();
    const tools = await manager.toolsFor(['everything']);
    const pool = manager.pool('everything')!;
    const [pid] = pool.pids();
    expect(pid).toBeGreaterThan(0);

    const restarted = once(pool, 'restart');
    process.kill(pid!, 'SIGKILL');
    expect(await invokeTool(tools, 'echo', { message: 'still here' })).toBe('Echo: still here');
    await restarted;

    expect(clock.sleeps[0]).toBe(1_000);
    expect(pool.pids()).not.toContain(pid);
    expect(manager.poolStats().get('everything')).toMatchObject({ total: 1, restarts: 1 });
    expect(await registry.metrics()).toContain('pulp_mcp_restarts_total{server="everything"} 1');
  });

  it('a server that never answers a call fails it with EXT_7020 after the call timeout', async () => {
    const { manager } = setup({ silent: nodeServer(fixture('silent-server.mjs')) }, { callTimeoutMs: 200 });
    await manager.start();
    const tools = await manager.toolsFor(null);
    const output = await invokeTool(tools, 'wait_forever', {});
    expect(parseToolError(output)).toEqual({ code: 'EXT_7020', message: expect.stringContaining('did not answer within 200 ms') });
    // The instance is given back: the pool is whole again.
    expect(manager.health()).toEqual({ silent: { total: 1, available: 1, healthy: true } });
  });

  it('a caller who cannot lease an instance in time gets EXT_7020 while the turn goes on', async () => {
    const { manager } = setup({ silent: nodeServer(fixture('silent-server.mjs')) }, { acquireTimeoutMs: 100, callTimeoutMs: 5_000 });
    await manager.start();
    const tools = await manager.toolsFor(null);
    const holder = new AbortController();
    const holding = invokeTool(tools, 'wait_forever', {}, holder.signal);
    const output = await invokeTool(tools, 'echo', {});
    expect(parseToolError(output)).toEqual({ code: 'EXT_7020', message: expect.stringContaining('became free within 100 ms') });
    holder.abort(new Error('user stop'));
    await expect(holding).rejects.toThrow('user stop');
  });

  it('an aborted caller stops waiting for a lease at once', async () => {
    const { manager } = setup({ silent: nodeServer(fixture('silent-server.mjs')) }, { acquireTimeoutMs: 60_000, callTimeoutMs: 60_000 });
    await manager.start();
    const holder = new AbortController();
    const holding = manager.callTool('silent', 'wait_forever', {}, holder.signal);
    const waiter = new AbortController();
    const waiting = manager.callTool('silent', 'echo', {}, waiter.signal);
    expect(manager.poolStats().get('silent')?.waiting).toBe(1);
    waiter.abort(new Error('stop waiting'));
    await expect(waiting).rejects.toThrow('stop waiting');
    expect(manager.poolStats().get('silent')?.waiting).toBe(0);
    holder.abort(new Error('stop holding'));
    await expect(holding).rejects.toThrow('stop holding');
  });

  it('a server that cannot start is retried with backoff doubling to 60 s and reported unhealthy', async () => {
    const clock = steppedClock(false);
    const { manager } = setup({ broken: { command: '/nonexistent/pulp-mcp-server' } }, { clock, acquireTimeoutMs: 50 });
    await manager.start();
    expect(manager.health()).toEqual({ broken: { total: 0, available: 0, healthy: false } });
    for (let n = 1; n <= 8; n++) {
      await clock.waitForSleep(n);
      clock.release();
    }
    await clock.waitForSleep(9);
    expect(clock.sleeps).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
    // With no live instance, a call waits for the lease bound and fails with EXT_7020.
    const output = await manager.callTool('broken', 'anything', {}).catch((err: Error) => err);
    expect(output).toMatchObject({ code: 'EXT_7020', message: expect.stringContaining('became free within 50 ms') });
  });

  it('after close() no process the pool started is alive, not even one that ignores SIGTERM or runs under a shell', async () => {
    dir = tempDir();
    const pidFile = path.join(dir.dir, 'grandchildren.pid');
    const { manager } = setup(
      {
        everything: nodeServer(EVERYTHING_BIN, 'stdio'),
        stubborn: nodeServer(fixture('stubborn-server.mjs')),
        wrapped: { command: '/bin/sh', args: ['-c', `"${process.execPath}" "${fixture('stubborn-server.mjs')}" "${pidFile}"; true`] },
      },
      { poolSize: 2, killGraceMs: 300 },
    );
    await manager.start();
    const grandchildren = readFileSync(pidFile, 'utf8').trim().split('\n').map(Number);
    const pids = ['everything', 'stubborn', 'wrapped'].flatMap((name) => manager.pool(name)!.pids());
    expect(pids).toHaveLength(6);
    expect(grandchildren).toHaveLength(2);
    expect([...pids, ...grandchildren].every(isAlive)).toBe(true);
    await manager.close();
    expect([...pids, ...grandchildren].filter(isAlive)).toEqual([]);
    expect(manager.health()).toEqual({
      everything: { total: 0, available: 0, healthy: false },
      stubborn: { total: 0, available: 0, healthy: false },
      wrapped: { total: 0, available: 0, healthy: false },
    });
  });

  it('the pool gauges appear in the metrics registry', async () => {
    const { manager, registry } = setup({ silent: nodeServer(fixture('silent-server.mjs')) }, { poolSize: 2 });
    await manager.start();
    const text = await registry.metrics();
    expect(text).toContain('pulp_mcp_instances{server="silent",state="total"} 2');
    expect(text).toContain('pulp_mcp_instances{server="silent",state="leased"} 0');
    expect(text).toContain('pulp_mcp_lease_waiting{server="silent"} 0');
  });
});
