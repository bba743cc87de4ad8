/**
 * The server started the way users start it — `npm run start` (package.json's `start` script, after
 * its `prestart` build) — drives one chat turn: a session over REST, a message over the chat
 * socket, the fake model's reply streamed back. The process npm starts is the compiled server
 * (`node --enable-source-maps dist/main.js`), not the TypeScript sources through tsx. Embedded
 * database (PGlite in DATA_DIR); the model is the fake server over real HTTP.
 */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSession, ended, openChat } from '../support/chat-client.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { dataDirWithoutBuiltins, fakeModelEnv, listeningAt, spawnWithLines, START_ARGS } from '../support/pulp-process.js';

const REPLY = ['Hello', ' from', ' the compiled', ' server.'];

/** npm as the test runner was started (`npm test` sets npm_execpath), else `npm` on PATH. */
function npmCommand(): [string, string[]] {
  const cli = process.env.npm_execpath;
  return cli && /npm-cli\.js$/.test(cli) ? [process.execPath, [cli]] : ['npm', []];
}

/** The command lines (argv) of every process below `pid`, read from /proc. */
function descendants(pid: number): Array<{ pid: number; argv: string[] }> {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The fields after the parenthesised command name: state, then the parent's pid.
      parentOf.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // The process ended while we looked.
    }
  }
  const below = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [child, parent] of parentOf) {
      if (below.has(parent) && !below.has(child)) {
        below.add(child);
        grew = true;
      }
    }
  }
  below.delete(pid);
  return [...below].flatMap((p) => {
    try {
      return [{ pid: p, argv: readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0').filter(Boolean) }];
    } catch {
      return [];
    }
  });
}

let fake: FakeOpenAI;
let dataDir: string;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  fake.setHandler(() => ({ steps: [{ type: 'pace', ms: 5 }, { type: 'text', deltas: REPLY }] }));
  dataDir = dataDirWithoutBuiltins('pulp-npm-start-');
});
afterAll(async () => {
  await fake?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('npm start', () => {
  it('runs the compiled server, which streams a chat turn and exits 0 on SIGTERM', { timeout: 90_000 }, async () => {
    const [command, prefix] = npmCommand();
    const npm = spawnWithLines(command, [...prefix, 'run', 'start', '--silent'], {
      DATA_DIR: dataDir,
      CODE_INTERPRETER: 'off',
      ...fakeModelEnv(fake.baseUrl),
    });
    let server: { pid: number; argv: string[] } | undefined;
    try {
      const baseUrl = await listeningAt(npm);

      // npm → sh -c "<start script>" → node: the server is the node process running dist/main.js.
      server = descendants(npm.child.pid!).find((p) => p.argv.includes(START_ARGS.at(-1)!));
      expect(server?.argv.slice(1)).toEqual(['--enable-source-maps', '--max-semi-space-size=64', 'dist/main.js']);
      expect(path.basename(server!.argv[0]!)).toMatch(/^node/);
      const environment = readFileSync(`/proc/${server!.pid}/environ`, 'utf8').split('\0');
      expect(environment.filter((v) => v.startsWith('NODE_OPTIONS=') && v.includes('tsx'))).toEqual([]);
      expect(npm.lines.join('\n')).not.toMatch(/tsx/);

      const sessionId = await createSession(baseUrl, 'npm start');
      const chat = await openChat(baseUrl, sessionId);
      try {
        chat.send({ type: 'message', messages: [{ content: 'hi' }] });
        await chat.until(ended());
        expect(chat.text()).toBe(REPLY.join(''));
        expect(chat.events.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
        expect(fake.requests.at(-1)?.body.messages.at(-1)).toMatchObject({ role: 'user', content: 'hi' });
      } finally {
        chat.close();
      }

      // The server shuts down cleanly; sh and npm then end with its exit code.
      process.kill(server!.pid, 'SIGTERM');
      expect(await npm.exited).toBe(0);
      expect(npm.lines.some((l) => l.includes('shutdown complete'))).toBe(true);
    } finally {
      if (npm.child.exitCode === null && npm.child.signalCode === null) {
        // A failed test must not leave the server behind: killing npm alone would orphan it.
        for (const p of [...descendants(npm.child.pid!), { pid: npm.child.pid! }]) {
          try {
            process.kill(p.pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }
        await npm.exited;
      }
    }
  });
});
