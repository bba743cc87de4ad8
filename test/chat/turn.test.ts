import { tool } from '@openai/agents';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { ContextStore } from '../../src/chat/context-store.js';
import { listMessages } from '../../src/chat/message-store.js';
import type { ModelCallDecision, TurnFacts } from '../../src/chat/hooks.js';
import { AppError } from '../../src/errors/app-error.js';
import { field, startChatHarness, type ChatHarness, type TestClient } from './harness.js';

const lookup = tool({
  name: 'lookup',
  description: 'Looks a word up.',
  parameters: z.object({ word: z.string() }),
  execute: ({ word }) => Promise.resolve(JSON.stringify({ word, meaning: `the meaning of ${word}` })),
});

let slowAbortedAt: number | undefined;
const slow = tool({
  name: 'slow',
  description: 'Takes forever unless cancelled.',
  parameters: z.object({ seconds: z.number() }),
  execute: async (_args, _ctx, details) =>
    new Promise<string>((_resolve, reject) => {
      const signal = details?.signal;
      const onAbort = () => {
        slowAbortedAt = performance.now();
        reject(new Error('cancelled'));
      };
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    }),
});

/** Every tool call in a recorded request has its output (both APIs). */
interface RecordedBody {
  input?: Array<{ type?: string; call_id: string; output?: unknown }>;
  messages?: Array<{ role: string; tool_call_id: string; content?: unknown; tool_calls?: Array<{ id: string }> }>;
}

function toolCallsAnswered(body: RecordedBody): { calls: string[]; outputs: Map<string, string> } {
  const calls: string[] = [];
  const outputs = new Map<string, string>();
  for (const item of body.input ?? []) {
    if (item.type === 'function_call') calls.push(item.call_id);
    if (item.type === 'function_call_output') outputs.set(item.call_id, typeof item.output === 'string' ? item.output : JSON.stringify(item.output));
  }
  for (const m of body.messages ?? []) {
    for (const tc of m.tool_calls ?? []) calls.push(tc.id);
    if (m.role === 'tool') outputs.set(m.tool_call_id, typeof m.content === 'string' ? m.content : JSON.stringify(m.content));
  }
  return { calls, outputs };
}

function streamedText(client: TestClient, turnId: string | undefined): string {
  return client.events
    .filter((e) => e.type === 'assistant_delta' && e.turn_id === turnId)
    .map((e) => field<string>(e, 'content'))
    .join('');
}

let h: ChatHarness;
let preflight: ((facts: TurnFacts) => ModelCallDecision) | undefined;
/** Set: the hooks ask for a summary after each turn, and this is the summary. */
let afterTurn: ((facts: TurnFacts) => void) | undefined;
const titled: string[] = [];
beforeAll(async () => {
  h = await startChatHarness({
    tools: [lookup, slow],
    hooks: {
      beforeModelCall: (facts) => preflight?.(facts) ?? { kind: 'continue' },
      afterTurn: () => (afterTurn ? 'summarize' : 'none'),
      title: async (_model, exchange) => {
        titled.push((await exchange()).user);
        return undefined;
      },
    },
    summarize: (facts) => {
      afterTurn?.(facts);
      return Promise.resolve({ kind: 'not_summarized' });
    },
  });
});
afterAll(async () => {
  await h?.close();
});

describe.each(
  (['native', 'sdk'] as const).flatMap((adapter) => [
    { name: 'Responses', api: 'responses' as const, adapter },
    { name: 'Chat Completions', api: 'chat_completions' as const, adapter },
  ]),
)('a chat turn over the $name API with the $adapter adapter', ({ api, adapter }) => {
  beforeEach(() => h.setApi(api, adapter));

  it('streams events in protocol order, and a reload shows the same text and tool calls in the same order', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue(
      {
        steps: [
          { type: 'reasoning', text: 'Let me think.' },
          { type: 'text', deltas: ['I will ', 'look it ', 'up.'] },
          { type: 'tool_call', name: 'lookup', arguments: { word: 'pulp' }, callId: 'call_1' },
        ],
        usage: { input_tokens: 100, output_tokens: 20 },
      },
      { steps: [{ type: 'text', deltas: ['Pulp ', 'is ', 'soft.'] }], usage: { input_tokens: 150, output_tokens: 5 } },
    );
    client.message('What is pulp?');
    const events = await client.turn();
    const types = events.map((e) => e.type);

    expect(types[0]).toBe('assistant_start');
    expect(types.at(-1)).toBe('assistant_end');
    expect(field(events.at(-1), 'finish_reason')).toBe('stop');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.every((e) => e.session_id === session.session_id)).toBe(true);
    // The protocol order: reasoning, text, the tool card, more text, usage, end.
    const order = types.filter((t, i) => t !== types[i - 1]);
    expect(order).toEqual([
      'assistant_start',
      'reasoning_delta',
      'assistant_delta',
      'function_detected',
      'function_call_arguments_delta',
      'token_usage',
      'function_executing',
      'function_completed',
      'assistant_delta',
      'token_usage',
      'assistant_end',
    ]);
    const text = events.filter((e) => e.type === 'assistant_delta').map((e) => field<string>(e, 'content'));
    expect(text.join('')).toBe('I will look it up.Pulp is soft.');
    expect(events.filter((e) => e.type === 'reasoning_delta').map((e) => field(e, 'content')).join('')).toBe('Let me think.');
    const args = events.filter((e) => e.type === 'function_call_arguments_delta').map((e) => field<string>(e, 'delta'));
    expect(JSON.parse(args.join(''))).toEqual({ word: 'pulp' });
    expect(events.filter((e) => e.type === 'function_executing')).toHaveLength(1);
    const executing = events.find((e) => e.type === 'function_executing');
    expect(field(executing, 'tool_arguments')).toEqual({ word: 'pulp' });
    const completed = events.find((e) => e.type === 'function_completed');
    expect(field(completed, 'tool_success')).toBe(true);
    expect(JSON.parse(field<string>(completed, 'tool_result'))).toEqual({ word: 'pulp', meaning: 'the meaning of pulp' });
    const usage = events.filter((e) => e.type === 'token_usage').at(-1);
    expect(field(usage, 'current')).toBe(155);
    expect(field(usage, 'limit')).toBe(128_000);
    expect(field(usage, 'threshold')).toBe(102_400);

    const messages = await listMessages(h.database.db, session.id);
    expect(messages.map((m) => [m.role, m.content ?? m.tool_name])).toEqual([
      ['user', 'What is pulp?'],
      ['assistant', 'I will look it up.'],
      ['tool_call', 'lookup'],
      ['assistant', 'Pulp is soft.'],
    ]);
    expect(messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    // The reasoning is kept with the text it preceded, so a reload shows it there.
    expect(messages.map((m) => m.reasoning)).toEqual([null, 'Let me think.', null, null]);
    const card = messages[2]!;
    expect(card).toMatchObject({ tool_call_id: 'call_1', tool_arguments: { word: 'pulp' }, tool_success: true, status: 'completed', partial: false });
    expect(messages[3]!.partial).toBe(false);

    const { rows } = await h.database.db.query<{ message_count: number; turn_count: number; total_tokens: number }>(
      'SELECT message_count, turn_count, total_tokens FROM sessions WHERE id = $1',
      [session.id],
    );
    expect(rows[0]).toEqual({ message_count: 4, turn_count: 1, total_tokens: 155 });

    // The next request carries the whole conversation, the tool call with its output.
    const items = await new ContextStore(h.database.db, session.id).getItems();
    const kinds = items.map((i) => ('role' in i ? `${i.type ?? 'message'}:${i.role}` : i.type));
    expect(kinds).toEqual(['message:user', 'reasoning', 'message:assistant', 'function_call', 'function_call_result', 'message:assistant']);
  });

  it('keeps reasoning that led straight to a tool call as a row of its own, and never sends it back as text', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue(
      { steps: [{ type: 'reasoning', text: 'Plan: look it up.' }, { type: 'tool_call', name: 'lookup', arguments: { word: 'pith' }, callId: 'call_r1' }] },
      { steps: [{ type: 'reasoning', text: 'Now answer.' }, { type: 'text', deltas: ['Pith is ', 'the core.'] }] },
      { steps: [{ type: 'text', deltas: ['Yes.'] }] },
    );
    client.message('What is pith?');
    await client.turn();
    const messages = await listMessages(h.database.db, session.id);
    expect(messages.map((m) => [m.role, m.content ?? m.tool_name, m.reasoning])).toEqual([
      ['user', 'What is pith?', null],
      ['assistant', '', 'Plan: look it up.'],
      ['tool_call', 'lookup', null],
      ['assistant', 'Pith is the core.', 'Now answer.'],
    ]);
    expect(messages.every((m) => !m.partial)).toBe(true);

    const from = client.events.length;
    client.message('Sure?');
    await client.turn(from);
    // Stored reasoning never becomes text of the conversation sent to the model (the SDK's own
    // reasoning fields and items go back as they always did).
    const next = h.fake.requests.at(-1)!.body as { messages?: Array<{ content?: unknown }>; input?: Array<{ content?: unknown }> };
    const said = JSON.stringify([...(next.messages ?? []), ...(next.input ?? [])].map((m) => m.content ?? null));
    expect(said).toContain('Pith is the core.');
    expect(said).not.toContain('Now answer.');
    expect(said).not.toContain('Plan: look it up.');
  });

  it('sends the stored context with the next message, so the model sees the earlier turn', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['First answer.'] }] });
    client.message('first question');
    await client.turn();
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Second answer.'] }] });
    const request = h.fake.nextRequest();
    client.message('second question');
    const body = JSON.stringify((await request).body);
    await client.turn(client.events.length - 1);
    expect(body).toContain('first question');
    expect(body).toContain('First answer.');
    expect(body).toContain('second question');
  });

  it('an interrupt during the text aborts the model request at once and saves the partial text', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Partial ', 'answer'] }, { type: 'hang' }] });
    client.message('tell me a long story');
    const start = await client.waitForType('assistant_start');
    await client.waitFor(() => streamedText(client, start.turn_id) === 'Partial answer');
    const abort = h.fake.nextAbort();
    const sentAt = performance.now();
    client.send({ type: 'interrupt' });
    const aborted = await abort;
    expect(aborted.abortedAt! - sentAt).toBeLessThan(500);
    const events = await client.turn();
    const types = events.map((e) => e.type);
    expect(types.slice(-2)).toEqual(['token_usage', 'assistant_end']);
    expect(types).toContain('stream_interrupted');
    expect(types.indexOf('stream_interrupted')).toBeGreaterThan(types.lastIndexOf('assistant_delta'));
    expect(field(events.at(-1), 'finish_reason')).toBe('interrupted');

    const messages = await listMessages(h.database.db, session.id);
    expect(messages.map((m) => [m.role, m.content, m.partial, m.status])).toEqual([
      ['user', 'tell me a long story', false, null],
      ['assistant', 'Partial answer', true, 'interrupted'],
    ]);

    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Fine.'] }] });
    const next = h.fake.nextRequest();
    client.message('go on');
    const body = JSON.stringify((await next).body);
    await client.turn(client.events.length - 1);
    expect(body).toContain('Partial answer\\n\\n[interrupted by the user]');
    expect(body).toContain('go on');
  });

  it('an interrupt during a tool call cancels the tool, completes its card as interrupted and keeps the context valid', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Working on it.'] }, { type: 'tool_call', name: 'slow', arguments: { seconds: 60 }, callId: 'call_slow' }] });
    slowAbortedAt = undefined;
    client.message('do the slow thing');
    await client.waitForType('function_executing');
    const sentAt = performance.now();
    client.send({ type: 'interrupt' });
    const events = await client.turn();
    expect(slowAbortedAt).toBeDefined();
    expect(slowAbortedAt! - sentAt).toBeLessThan(500);
    const completed = events.filter((e) => e.type === 'function_completed');
    expect(completed).toHaveLength(1);
    expect(completed[0]).toMatchObject({
      tool_call_id: 'call_slow',
      tool_name: 'slow',
      tool_success: false,
      interrupted: true,
      tool_result: 'Interrupted by the user before the tool returned.',
    });
    expect(field(events.at(-1), 'finish_reason')).toBe('interrupted');

    const messages = await listMessages(h.database.db, session.id);
    expect(messages.map((m) => [m.role, m.status])).toEqual([
      ['user', null],
      ['assistant', null],
      ['tool_call', 'interrupted'],
    ]);
    expect(messages[2]).toMatchObject({ tool_success: false, tool_result: 'Interrupted by the user before the tool returned.', tool_arguments: { seconds: 60 } });

    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Okay.'] }] });
    const next = h.fake.nextRequest();
    client.message('never mind');
    const { calls, outputs } = toolCallsAnswered((await next).body as RecordedBody);
    await client.turn(client.events.length - 1);
    expect(calls).toEqual(['call_slow']);
    expect(outputs.get('call_slow')).toContain('Interrupted by the user before the tool returned.');
  });

  it('an interrupt before the first token aborts the request and leaves no assistant row', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({ steps: [{ type: 'hang' }] });
    const request = h.fake.nextRequest();
    client.message('hello?');
    await request;
    const abort = h.fake.nextAbort();
    const sentAt = performance.now();
    client.send({ type: 'interrupt' });
    expect((await abort).abortedAt! - sentAt).toBeLessThan(500);
    const events = await client.turn();
    expect(events.map((e) => e.type)).toEqual(['assistant_start', 'stream_interrupted', 'token_usage', 'assistant_end']);
    const messages = await listMessages(h.database.db, session.id);
    expect(messages.map((m) => m.role)).toEqual(['user']);
  });

  it('a provider error ends the turn with one error event and assistant_end{error}', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({ steps: [], error: { status: 500, message: 'upstream broke with sk-abcdef123456' } });
    client.message('hi');
    const failed = await client.turn();
    expect(failed.map((e) => e.type).slice(-2)).toEqual(['error', 'assistant_end']);
    expect(failed.filter((e) => e.type === 'error')).toHaveLength(1);
    const error = failed.at(-2);
    expect(error).toMatchObject({ code: 'EXT_7010', recoverable: true });
    expect(typeof field(error, 'request_id')).toBe('string');
    // The production classifier: the provider's words, with anything secret-looking scrubbed.
    expect(field(error, 'message')).toBe('The model provider answered with an error (HTTP 500). The provider said: upstream broke with [redacted]');
    expect(field(failed.at(-1), 'finish_reason')).toBe('error');

    h.fake.enqueue({ steps: [], error: { status: 429, message: 'slow down' } });
    const from = client.events.length;
    client.message('again');
    const limited = await client.turn(from);
    expect(limited.find((e) => e.type === 'error')).toMatchObject({ code: 'EXT_7003' });
    expect((await listMessages(h.database.db, session.id)).map((m) => m.content)).toEqual(['hi', 'again']);
  });
});

describe('database cost of a turn', () => {
  beforeEach(() => h.setApi('responses'));

  async function statementsFor(deltas: number): Promise<number> {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: Array.from({ length: deltas }, (_, i) => `w${i} `) }] });
    const before = h.database.statements();
    client.message('count');
    const events = await client.turn();
    const after = h.database.statements();
    expect(streamedText(client, events[0]!.turn_id).split(' ').filter(Boolean)).toHaveLength(deltas);
    return after - before;
  }

  it("asks the model without reading the context back on a chat's first turn, and with the earlier turns on a later one", async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    /** Statements from a message to its model request; the turn then runs to its end. */
    const untilModel = async (words: string): Promise<{ statements: number; body: string }> => {
      h.fake.enqueue({ steps: [{ type: 'text', deltas: [`Answer to ${words}.`] }] });
      const request = h.fake.nextRequest();
      const before = h.database.statements();
      const from = client.events.length;
      client.message(words);
      const { body } = await request;
      const statements = h.database.statements() - before;
      await client.turn(from);
      return { statements, body: JSON.stringify(body) };
    };
    // The first: the start statement (which says the chat had no context, so the context is the
    // turn's own item) beside the user's budget check.
    const first = await untilModel('first question');
    expect(first.statements).toBe(2);
    expect(first.body).toContain('first question');
    // A later one reads the chat's context too.
    const second = await untilModel('second question');
    expect(second.statements).toBe(3);
    expect(second.body).toContain('first question');
    expect(second.body).toContain('Answer to first question.');
    expect(second.body).toContain('second question');
  });

  it('does not grow with the number of streamed deltas', async () => {
    const few = await statementsFor(10);
    const many = await statementsFor(300);
    expect(many).toBe(few);
    expect(few).toBeLessThan(20);
  });
});

describe('turn hooks', () => {
  beforeEach(() => h.setApi('responses'));

  it('a pre-flight CTX_4101 ends the turn before any model call, with a non-recoverable error', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    const requestsBefore = h.fake.requests.length;
    preflight = (facts) => {
      expect(facts.estimatedTokens).toBeGreaterThan(0);
      return { kind: 'refuse', error: new AppError('CTX_4101', 'Too large even after summarizing.') };
    };
    try {
      client.message('x'.repeat(5000));
      const events = await client.turn();
      expect(events.map((e) => e.type)).toEqual(['assistant_start', 'token_usage', 'error', 'assistant_end']);
      expect(events[2]).toMatchObject({ code: 'CTX_4101', recoverable: false, message: 'Too large even after summarizing.' });
      expect(h.fake.requests.length).toBe(requestsBefore);
      // The turn took its user item back out of the context; the display row stays.
      expect(await new ContextStore(h.database.db, session.id).getItems()).toEqual([]);
      expect((await listMessages(h.database.db, session.id)).map((m) => m.role)).toEqual(['user']);
    } finally {
      preflight = undefined;
    }
  });

  it('a summary the hooks ask for after the turn can show a card before assistant_end, and an untitled session asks for a title once it completes', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    afterTurn = (facts) => {
      facts.emit({ type: 'function_detected', tool_call_id: 'sum_00000000', tool_name: 'summarize_conversation' });
      facts.emit({ type: 'token_usage', current: 1, limit: facts.contextWindow, threshold: facts.threshold });
    };
    try {
      h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Hi.'] }] });
      client.message('hello, title me');
      const events = await client.turn();
      expect(events.map((e) => e.type).slice(-3)).toEqual(['function_detected', 'token_usage', 'assistant_end']);
      await vi.waitFor(() => expect(titled).toContain('hello, title me'));
    } finally {
      afterTurn = undefined;
    }
  });
});
