/** Sends one fuzz input of any kind to the target and checks the answer (shared by the fuzzers and the corpus). */
import path from 'node:path';
import { RunContext } from '@openai/agents';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/app-error.js';
import { createWorkspaceTools, type WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import type { ToolInput, UploadInput } from './file-inputs.js';
import type { RestInput } from './rest-requests.js';
import type { SocketInput } from './socket-frames.js';
import { authHeader, expectSafeAnswer, fillPlaceholders, rawRequest, sendablePath, type RawResponse, type Target } from './target.js';

export async function sendRest(target: Target, input: RestInput): Promise<RawResponse> {
  const url = sendablePath(fillPlaceholders(input.url, target));
  const headers: Record<string, string> = { ...authHeader(target, input.auth), ...(input.contentType ? { 'content-type': input.contentType } : {}) };
  const body = input.body === undefined ? undefined : Buffer.from(fillPlaceholders(input.body, target), 'utf8');
  const res = await rawRequest(target.port, input.method, url, headers, body);
  expectSafeAnswer(target, res, `${input.method} ${url} ${input.body?.slice(0, 200) ?? ''}`);
  return res;
}

export async function sendUpload(target: Target, input: UploadInput): Promise<RawResponse> {
  const url = sendablePath(`/api/v1/sessions/${fillPlaceholders(input.session, target)}/files${input.query}`);
  const body = Buffer.from(fillPlaceholders(input.body, target), 'utf8');
  const res = await rawRequest(target.port, 'POST', url, { ...authHeader(target, 'access'), 'content-type': input.contentType }, body);
  expectSafeAnswer(target, res, `upload ${url} ${input.contentType} ${JSON.stringify(input.body.slice(0, 300))}`);
  return res;
}

/** User A's workspace tools, called as a turn would call them. */
export async function toolsOfA(target: Target): Promise<Map<string, WorkspaceTool>> {
  const db = target.server.database.db;
  const { rows } = await db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [target.a.sessionId]);
  const root = path.join(target.server.dataDir, 'sessions', target.a.sessionId);
  const tools = createWorkspaceTools({ root, sessionUuid: rows[0]!.id, db, sandbox: undefined });
  return new Map(tools.map((tool) => [tool.name, tool]));
}

/** Calls a tool; the result must be a JSON tool result, an error with a registered code, and free of B's data. */
export async function callTool(target: Target, tools: Map<string, WorkspaceTool>, input: ToolInput): Promise<{ success: boolean; code?: string }> {
  const tool = tools.get(input.name);
  if (!tool) throw new Error(`no tool ${input.name}`);
  const args = JSON.stringify(input.arguments) ?? 'null';
  const label = `${input.name} ${fillPlaceholders(args, target).slice(0, 300)}`;
  const out = String(await tool.invoke(new RunContext(), fillPlaceholders(args, target)));
  expect(out.includes(target.marker), `another user's data from ${label}: ${out.slice(0, 300)}`).toBe(false);
  const result = JSON.parse(out) as { success?: unknown; error?: { code?: string } };
  expect(typeof result.success, `${label}: ${out.slice(0, 300)}`).toBe('boolean');
  if (result.success === false) {
    const status = ERROR_CODES[result.error?.code as ErrorCode]?.status;
    expect(status, `${label}: ${out.slice(0, 300)}`).toBeDefined();
    expect(status, `${label}: ${out.slice(0, 300)}`).toBeLessThan(500);
  }
  return { success: result.success === true, ...(result.error?.code ? { code: result.error.code } : {}) };
}

/** Close codes a fuzzed socket may end with: normal, no such session, too many bad frames, too big. */
const EXPECTED_CLOSE_CODES = [1000, 1005, 4404, 4429, 1009];

export interface SocketOutcome {
  events: number;
  /** Turns started and tool calls completed on the way. */
  turns: number;
  toolCalls: number;
  /** The codes of the error events received. */
  errorCodes: string[];
  /** Set when the server closed the socket (or refused the upgrade with an HTTP status). */
  closeCode?: number;
}

interface WireEvent {
  type: string;
  code?: string;
  content?: string;
  turn_id?: string;
}

/** The end of what one frame caused: its turn's end, a frame error, or (for anything but a message) a pong. */
const answersMessage = (e: WireEvent) => e.type === 'assistant_end' || (e.type === 'error' && e.turn_id === undefined);

let settleCount = 0;

/**
 * Opens a chat socket as user A and sends the frames: all at once, or (`paced`) each after the
 * previous one's turn ended, so tool calls run to the end instead of being interrupted. Then a last
 * message whose turn ends after every turn the frames started (a session runs one turn at a time).
 * Resolves when that turn ended or the server closed the socket; checks every event on the way.
 */
export async function sendSocket(target: Target, input: SocketInput): Promise<SocketOutcome> {
  const url = `${target.server.wsUrl}/ws/chat/${sendablePath(fillPlaceholders(input.session, target))}`;
  const settle = `settle-${++settleCount}`;
  const label = `socket ${url} ${JSON.stringify(input.frames).slice(0, 400)}`;
  const ws = new WebSocket(url, ['bearer', target.a.token]);
  const events: WireEvent[] = [];
  const outcome: SocketOutcome = { events: 0, turns: 0, toolCalls: 0, errorCodes: [] };
  let failure: Error | undefined;
  const watchers = new Set<() => void>();
  const notify = () => watchers.forEach((w) => w());
  let ended = false;
  const check = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      failure ??= err instanceof Error ? err : new Error(String(err));
    }
    notify();
  };
  /** Resolves once `pred` holds for an event at or after `from`, or the socket ended, or a check failed. */
  const until = (pred: (e: WireEvent) => boolean, from: number) =>
    new Promise<void>((resolve) => {
      const w = () => {
        if (failure || ended || events.slice(from).some(pred)) {
          watchers.delete(w);
          resolve();
        }
      };
      watchers.add(w);
      w();
    });

  ws.on('message', (data: Buffer) =>
    check(() => {
      const text = data.toString('utf8');
      expect(text.includes(target.marker), `another user's data on ${label}: ${text.slice(0, 300)}`).toBe(false);
      const event = JSON.parse(text) as WireEvent;
      if (event.type === 'ping') return;
      events.push(event);
      if (event.type === 'assistant_start') outcome.turns++;
      if (event.type === 'function_completed') outcome.toolCalls++;
      if (event.type === 'error') {
        outcome.errorCodes.push(String(event.code));
        const status = ERROR_CODES[event.code as ErrorCode]?.status;
        expect(status, `${label}: ${text}`).toBeDefined();
        expect(status, `${label}: ${text}`).toBeLessThan(500);
      }
    }),
  );
  ws.on('unexpected-response', (_req, res) => {
    res.resume();
    ended = true;
    outcome.closeCode = res.statusCode;
    check(() => expect(res.statusCode, label).toBeLessThan(500));
  });
  ws.on('close', (code) => {
    ended = true;
    outcome.closeCode ??= code;
    check(() => expect(EXPECTED_CLOSE_CODES, `${label}: closed with ${code}`).toContain(code));
  });
  ws.on('error', (err) => {
    ended = true;
    if (!/Unexpected server response/.test(err.message)) check(() => expect.fail(`${label}: ${err.message}`));
    else notify();
  });

  try {
    await new Promise<void>((resolve) => {
      ws.once('open', () => resolve());
      watchers.add(() => (ended ? resolve() : undefined));
    });
    for (const frame of input.frames) {
      if (ended || failure) break;
      const from = events.length;
      if ('text' in frame) ws.send(fillPlaceholders(frame.text, target));
      else ws.send(Buffer.from(frame.binary, 'base64'), { binary: true });
      if (!input.paced) continue;
      if ('text' in frame && /"type"\s*:\s*"message"/.test(frame.text)) {
        await until(answersMessage, from);
      } else {
        ws.send(JSON.stringify({ type: 'ping' }));
        await until((e) => e.type === 'pong', from);
      }
    }
    if (!ended && !failure) {
      const from = events.length;
      ws.send(JSON.stringify({ type: 'message', messages: [{ content: settle }] }));
      let settleTurn: string | undefined;
      await until((e) => {
        if (e.type === 'assistant_delta' && e.content?.includes(settle)) settleTurn = e.turn_id;
        return e.type === 'assistant_end' && settleTurn !== undefined && e.turn_id === settleTurn;
      }, from);
    }
    if (failure) throw failure;
    outcome.events = events.length;
    return outcome;
  } finally {
    ws.terminate();
  }
}
