/**
 * The WebSocket protocol as a contract: every frame a client receives — over a turn with
 * reasoning, text and a tool call, a stopped turn, a failed one, a title, a ping and a shutdown —
 * is exactly what the published schemas of src/chat/events.ts describe (nothing missing, nothing
 * extra), and client frames are checked against the same file.
 */
import { tool } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { SessionEventBodySchema, TurnEventBodySchema, type ServerEvent } from '../../src/chat/events.js';
import { renderInstructions } from '../../src/chat/instructions.js';
import { field, startChatHarness, type ChatHarness, type TestClient } from './harness.js';

const lookup = tool({
  name: 'lookup',
  description: 'Looks a word up.',
  parameters: z.object({ word: z.string() }),
  execute: ({ word }) => Promise.resolve(JSON.stringify({ word, meaning: `the meaning of ${word}` })),
});

let h: ChatHarness;
let release: () => void = () => undefined;

beforeAll(async () => {
  h = await startChatHarness({
    // The offered models: the usual two and the longest name a frame may carry.
    env: { MODELS: `gpt-4o,gpt-4o-mini,${'m'.repeat(200)}` },
    tools: [lookup],
    hooks: { title: () => Promise.resolve('Words') },
  });
});
afterAll(async () => {
  release();
  await h?.close();
});

/** The frame without the envelope fields, parsed by its schema: equal only when the schema describes it exactly. */
function checkAgainstSchema(event: ServerEvent): void {
  const { session_id, turn_id, seq, ...body } = event;
  expect(session_id, JSON.stringify(event)).toMatch(/^chat_/);
  if (turn_id !== undefined) {
    expect(turn_id).toMatch(/^turn_[0-9a-f]{16}$/);
    expect(Number.isInteger(seq), JSON.stringify(event)).toBe(true);
    expect(TurnEventBodySchema.parse(body), JSON.stringify(event)).toEqual(body);
  } else {
    expect(seq).toBeUndefined();
    expect(SessionEventBodySchema.parse(body), JSON.stringify(event)).toEqual(body);
  }
}

/** Each turn's frames are numbered 1, 2, 3 … in the order the client got them. */
function checkSeqs(events: ServerEvent[]): void {
  const byTurn = new Map<string, number[]>();
  for (const e of events) if (e.turn_id !== undefined) byTurn.set(e.turn_id, [...(byTurn.get(e.turn_id) ?? []), e.seq ?? -1]);
  expect(byTurn.size).toBeGreaterThan(0);
  for (const [turn, seqs] of byTurn) expect(seqs, turn).toEqual(seqs.map((_, i) => i + 1));
}

async function frames(client: TestClient, from: number): Promise<ServerEvent[]> {
  await client.turn(from);
  return client.events.slice(from);
}

describe('every server frame matches the published schema', () => {
  it('a turn with reasoning, text and a tool call, then its title', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({
      steps: [
        { type: 'reasoning', text: 'Think.' },
        { type: 'text', deltas: ['Looking ', 'it up.'] },
        { type: 'tool_call', name: 'lookup', arguments: { word: 'pulp' }, callId: 'call_p1' },
      ],
      usage: { input_tokens: 20, output_tokens: 5 },
    });
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Done.'] }], usage: { input_tokens: 30, output_tokens: 2 } });
    client.message('What is pulp?');
    const turn = await frames(client, 0);
    await client.waitForType('session_updated');

    const types = new Set(client.events.map((e) => e.type));
    for (const type of [
      'assistant_start',
      'reasoning_delta',
      'assistant_delta',
      'function_detected',
      'function_call_arguments_delta',
      'function_executing',
      'function_completed',
      'token_usage',
      'assistant_end',
      'session_updated',
    ] as const) {
      expect(types, type).toContain(type);
    }
    expect(turn.find((e) => e.type === 'function_completed')).toMatchObject({ tool_call_id: 'call_p1', tool_name: 'lookup', tool_success: true });
    expect(client.events.find((e) => e.type === 'session_updated')).toMatchObject({ title: 'Words' });
    client.events.forEach(checkAgainstSchema);
    checkSeqs(client.events);
    client.ws.terminate();
  });

  it('a stopped turn, a failed turn, a refused frame and a ping', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    const gate = new Promise<void>((resolve) => (release = resolve));
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Partial'] }, { type: 'wait', until: gate }, { type: 'text', deltas: [' never'] }] });
    client.message('Start');
    await client.waitForType('assistant_delta');
    client.send({ type: 'interrupt' });
    await client.turn(0);
    release();

    const failedFrom = client.events.length;
    h.fake.enqueue({ steps: [], error: { status: 500, message: 'upstream broke' } });
    client.message('Again');
    await client.turn(failedFrom);

    const refusedFrom = client.events.length;
    client.send({ type: 'message', messages: [] });
    client.send({ type: 'ping' });
    await client.waitForType('pong', refusedFrom);

    const endings = client.events.filter((e) => e.type === 'assistant_end').map((e) => field(e, 'finish_reason'));
    expect(endings).toEqual(['interrupted', 'error']);
    expect(client.events.some((e) => e.type === 'stream_interrupted')).toBe(true);
    const errors = client.events.filter((e) => e.type === 'error');
    expect(errors.map((e) => [field(e, 'code'), e.turn_id === undefined])).toEqual([
      ['EXT_7010', false],
      ['WS_6002', true],
    ]);
    client.events.forEach(checkAgainstSchema);
    checkSeqs(client.events);
    client.ws.terminate();
  });
});

describe('client frames', () => {
  it('accept a model name and every reasoning effort, and refuse an empty or over-long model name', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    let from = 0;
    for (const effort of ['none', 'low', 'medium', 'high']) {
      h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Ok.'] }] });
      client.send({ type: 'message', messages: [{ content: `effort ${effort}` }], model: 'gpt-4o', reasoning_effort: effort });
      const turn = await client.turn(from);
      expect(turn.at(-1), effort).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
      from = client.events.length;
      const body = h.fake.requests.at(-1)?.body;
      expect(body.model).toBe('gpt-4o');
      // "none" asks for no reasoning at all; the others are sent as the request's effort.
      expect(body.reasoning?.effort, effort).toBe(effort === 'none' ? undefined : effort);
    }
    expect(h.fake.requests.at(-1)?.body.instructions).toBe(renderInstructions({ files: [], moreFiles: false, mcpServers: [], codeInterpreter: false }));
    // The frame's choices stay the session's choices.
    const { rows } = await h.database.db.query<{ model: string; reasoning_effort: string }>('SELECT model, reasoning_effort FROM sessions WHERE id = $1', [session.id]);
    expect(rows[0]).toEqual({ model: 'gpt-4o', reasoning_effort: 'high' });

    await h.database.db.query('UPDATE sessions SET mcp_config = $2 WHERE id = $1', [session.id, JSON.stringify(['fs', 'time'])]);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Ok.'] }] });
    client.message('with tools');
    await client.turn(client.events.length);
    expect(h.fake.requests.at(-1)?.body.instructions).toContain('Tools from these MCP servers are available: fs, time.');
    await h.database.db.query("UPDATE sessions SET mcp_config = '[]' WHERE id = $1", [session.id]);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Ok.'] }] });
    client.message('no tools');
    await client.turn(client.events.length);
    expect(h.fake.requests.at(-1)?.body.instructions).not.toContain('MCP servers');

    for (const model of ['', 'm'.repeat(201)]) {
      const at = client.events.length;
      client.send({ type: 'message', messages: [{ content: 'hi' }], model });
      expect(await client.waitForType('error', at)).toMatchObject({ code: 'WS_6002', recoverable: true, message: expect.stringContaining('model') });
    }
    const longest = 'm'.repeat(200);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Ok.'] }] });
    client.send({ type: 'message', messages: [{ content: 'long name' }], model: longest });
    await client.turn(client.events.length);
    expect(h.fake.requests.at(-1)?.body).toMatchObject({ model: longest });
    client.ws.terminate();
  });

  it('refuse a model the operator does not offer, and a message with a NUL character or a lone surrogate, storing and sending nothing', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    const requestsBefore = h.fake.requests.length;
    let at = client.events.length;
    client.send({ type: 'message', messages: [{ content: 'use the expensive one' }], model: 'o1-pro-expensive' });
    expect(await client.waitForType('error', at)).toMatchObject({
      code: 'VAL_2001',
      recoverable: true,
      message: expect.stringContaining('Unknown model "o1-pro-expensive"; choose one of gpt-4o, gpt-4o-mini'),
    });
    at = client.events.length;
    client.send({ type: 'message', messages: [{ content: 'a\u0000b' }] });
    expect(await client.waitForType('error', at)).toMatchObject({ code: 'WS_6002', recoverable: true, message: expect.stringContaining('NUL') });
    // A lone surrogate (JSON's \ud800 escape) cannot be stored either: jsonb refuses it.
    at = client.events.length;
    client.send('{"type":"message","messages":[{"content":"a\\ud800b"}]}');
    expect(await client.waitForType('error', at)).toMatchObject({ code: 'WS_6002', recoverable: true, message: expect.stringContaining('unpaired UTF-16 surrogate') });
    expect(h.fake.requests.length).toBe(requestsBefore);
    const { rows } = await h.database.db.query<{ model: string; messages: number }>(
      'SELECT model, (SELECT count(*)::int FROM messages WHERE session_id = s.id) AS messages FROM sessions s WHERE id = $1',
      [session.id],
    );
    expect(rows[0]).toEqual({ model: session.model, messages: 0 });
    // The session still chats with an offered model.
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Fine.'] }] });
    client.send({ type: 'message', messages: [{ content: 'the cheap one then' }], model: 'gpt-4o-mini' });
    expect((await client.turn(client.events.length)).at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    client.ws.terminate();
  });

  it('a turn started by the service resolves with how it ended', async () => {
    const session = await h.createSession();
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Direct.'] }] });
    await expect(h.chat.startTurn({ session, frame: { type: 'message', messages: [{ content: 'hi' }] }, requestId: 'req-direct' })).resolves.toBe('stop');
  });

  it('a shutdown tells every open socket once, closes it with 1001, and refuses new sockets', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    await h.chat.shutdown();
    await h.chat.shutdown();
    const frame = await client.waitForType('server_shutdown');
    expect(field<string>(frame, 'message')).toBe('The server is shutting down.');
    expect(await client.closed).toEqual({ code: 1001, reason: 'Server shutting down' });
    expect(client.events.filter((e) => e.type === 'server_shutdown')).toHaveLength(1);
    client.events.forEach(checkAgainstSchema);
    const late = await h.connect(session.session_id);
    expect(await late.closed).toEqual({ code: 4503, reason: 'Server shutting down' });
  });
});
