/**
 * SIGTERM ends the server cleanly even when WebSocket peers misbehave: one that stopped reading
 * (its socket paused) and one that reads but never answers the close frame. Both are cut after a
 * short grace, the close hooks run, "shutdown complete" is logged and the exit code is 0.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { dataDirWithoutBuiltins, startPulpProcess } from '../support/pulp-process.js';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A raw WebSocket upgrade; resolves with the socket once the server answered 101. */
async function rawUpgrade(baseUrl: string, path: string): Promise<Socket> {
  const { hostname, port } = new URL(baseUrl);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(
    `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n`,
  );
  let head = '';
  while (!head.includes('\r\n\r\n')) {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    head += chunk.toString('latin1');
  }
  expect(head).toMatch(/^HTTP\/1\.1 101/);
  return socket;
}

describe('shutdown with misbehaving WebSocket peers', () => {
  it('cuts a peer that stopped reading and one that ignores the close frame, then exits 0 with its hooks run', { timeout: 60_000 }, async () => {
    const DATA_DIR = dataDirWithoutBuiltins('pulp-shutdown-');
    dirs.push(DATA_DIR);
    const pulp = await startPulpProcess({ DATA_DIR, LLM_PROVIDER: 'offline', CODE_INTERPRETER: 'off' });
    const { session_id } = (await apiClient(pulp.baseUrl)<{ session_id: string }>('POST', '/sessions', {})).body;

    const stalled = await rawUpgrade(pulp.baseUrl, `/ws/chat/${session_id}`);
    stalled.pause(); // stops reading: the close frame is never read, let alone answered
    const deaf = await rawUpgrade(pulp.baseUrl, `/ws/chat/${session_id}`);
    deaf.on('data', () => undefined); // reads everything, answers nothing
    const deafClosed = once(deaf, 'close');

    const started = Date.now();
    pulp.child.kill('SIGTERM');
    expect(await pulp.exited).toBe(0);
    const took = Date.now() - started;
    const log = pulp.lines.join('\n');
    expect(log).toContain('shutdown complete');
    expect(log).not.toContain('shutdown took too long');
    expect(log).toMatch(/closed 2 WebSocket connection\(s\) that did not finish closing/);
    // Well inside the 12 s hard limit: the grace is a few seconds.
    expect(took).toBeLessThan(8_000);
    await deafClosed;
    stalled.destroy();
  });
});
