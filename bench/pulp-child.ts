/**
 * Pulp as a real child process (the compiled server, `node --enable-source-maps dist/main.js`, as
 * `npm start` runs it; built first when stale) for the benchmark, with its CPU time read from
 * /proc/<pid>/stat so the server's cost is measured apart from the client's.
 */
import { rmSync } from 'node:fs';
import WebSocket from 'ws';
import { buildAll } from '../scripts/build.mjs';
import { cpuMicrosOf, rssBytesOf } from './processes.js';
import { dataDirWithoutBuiltins, spawnPulpRaw, type SpawnedPulp } from '../test/support/pulp-process.js';

export interface PulpChild {
  baseUrl: string;
  wsUrl: string;
  /** utime + stime of the server process so far, in microseconds (10 ms resolution). */
  cpuMicros(): number;
  /** Resident memory of the server process, in bytes. */
  rssBytes(): number;
  createSession(): Promise<string>;
  connect(sessionId: string): Promise<WebSocket>;
  stop(): Promise<void>;
}

export async function startPulpChild(env: Record<string, string>): Promise<PulpChild> {
  await buildAll({ only: 'server' });
  const dataDir = dataDirWithoutBuiltins('pulp-bench-');
  let p: SpawnedPulp | undefined;
  try {
    p = spawnPulpRaw({ DATA_DIR: dataDir, CODE_INTERPRETER: 'off', WS_MAX_CONNECTIONS: '2000', ...env });
    const line = await p.waitForLine((l) => l.includes('Pulp listening on'));
    const baseUrl = /listening on (http:\/\/[^"\s]+)/.exec(line)?.[1];
    if (!baseUrl) throw new Error(`no address in: ${line}`);
    const child = p;
    const pid = child.child.pid!;
    return {
      baseUrl,
      wsUrl: baseUrl.replace(/^http/, 'ws'),
      cpuMicros: () => cpuMicrosOf(pid),
      rssBytes: () => rssBytesOf(pid),
      async createSession() {
        // A title makes the session named, so no title request follows the first turn.
        const res = await fetch(`${baseUrl}/api/v1/sessions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ title: 'bench' }),
        });
        if (res.status !== 201) throw new Error(`POST /sessions answered ${res.status}`);
        return ((await res.json()) as { session_id: string }).session_id;
      },
      connect(sessionId) {
        const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws/chat/${sessionId}`);
        return new Promise((resolve, reject) => {
          ws.once('open', () => resolve(ws));
          ws.once('error', reject);
        });
      },
      async stop() {
        child.child.kill('SIGTERM');
        await child.exited;
        rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    p?.child.kill('SIGKILL');
    await p?.exited;
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
