/**
 * The ends of a turn that the socket tests do not reach: a stop while the turn is still getting
 * ready, a session that vanishes mid-turn so nothing can be saved, and a title hook that throws.
 * runTurn is driven directly, over a fresh database and the fake OpenAI-compatible server.
 */
import { OpenAIProvider, type AgentInputItem } from '@openai/agents';
import OpenAI from 'openai';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CancellationToken, UserInterrupt } from '../../src/chat/cancellation.js';
import { ContextStore } from '../../src/chat/context-store.js';
import type { ServerEvent } from '../../src/chat/events.js';
import { listMessages } from '../../src/chat/message-store.js';
import type { FirstExchange, TurnFacts } from '../../src/chat/hooks.js';
import { runTurn, type TurnDeps, type TurnRequest } from '../../src/chat/turn.js';
import { migrate } from '../../src/db/migrate.js';
import { AppError } from '../../src/errors/app-error.js';
import { NativeModelProvider, openAIEndpoint } from '../../src/llm/adapters/index.js';
import { classifyProviderError } from '../../src/llm/provider-errors.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { UsageMeter } from '../../src/usage/usage-meter.js';
import { NO_BUDGETS, noHooks, noSummary } from './harness.js';

let database: TestDatabase;
let fake: FakeOpenAI;
let provider: OpenAIProvider;
let userId: string;
let n = 0;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db);
  fake = await startFakeOpenAI();
  provider = new OpenAIProvider({ openAIClient: new OpenAI({ baseURL: fake.baseUrl, apiKey: 'test', maxRetries: 0 }), useResponses: true });
  const { rows } = await database.db.query<{ id: string }>("INSERT INTO users (email) VALUES ('turns@example.test') RETURNING id");
  userId = rows[0]!.id;
});
afterAll(async () => {
  await fake?.close();
  await database?.drop();
});

async function newSession(): Promise<{ uuid: string; publicId: string }> {
  const publicId = `chat_turnend${String(++n).padStart(4, '0')}`;
  const { rows } = await database.db.query<{ id: string }>('INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, $3) RETURNING id', [userId, publicId, 'gpt-4o']);
  return { uuid: rows[0]!.id, publicId };
}

const countTokens = (_model: string, items: AgentInputItem[]): number => items.length * 10;

function setup(overrides: Partial<TurnDeps> = {}): { deps: TurnDeps; events: ServerEvent[]; errors: Array<{ msg?: string }> } {
  const events: ServerEvent[] = [];
  const errors: Array<{ msg?: string }> = [];
  // Error lines (level 50) are collected: the turn logs what it could not do.
  const logger = pino({ level: 'error' }, { write: (line: string) => void errors.push(JSON.parse(line)) });
  const metrics = createMetrics();
  const deps: TurnDeps = {
    db: database.db,
    logger,
    metrics,
    sink: { publish: (_uuid, event) => void events.push(event) },
    modelProvider: provider,
    usage: new UsageMeter({ db: database.db, logger, metrics, provider: 'openai', prices: {}, budgets: NO_BUDGETS }),
    tools: () => Promise.resolve([]),
    instructions: () => Promise.resolve('Be brief.'),
    countTokens,
    contextWindow: () => 1_000,
    classifyError: (err) => classifyProviderError(err),
    hooks: noHooks,
    summarize: noSummary,
    ...overrides,
  };
  return { deps, events, errors };
}

function request(s: { uuid: string; publicId: string }, token = new CancellationToken()): TurnRequest {
  return { sessionUuid: s.uuid, sessionId: s.publicId, userId, turnId: `turn_${n}`, contents: ['Hello there'], token, requestId: 'req-1' };
}

const types = (events: ServerEvent[]) => events.map((e) => e.type);

describe('a turn stopped or broken outside the model stream', () => {
  it('a stop while the tools load ends the turn as interrupted without calling the model, and keeps the user message', async () => {
    const s = await newSession();
    const token = new CancellationToken();
    const before = fake.requests.length;
    const { deps, events } = setup({
      tools: () => {
        token.cancel(new UserInterrupt());
        return Promise.resolve([]);
      },
    });

    await expect(runTurn(deps, request(s, token))).resolves.toBe('interrupted');

    expect(fake.requests.length).toBe(before);
    expect(types(events)).toEqual(['assistant_start', 'stream_interrupted', 'token_usage', 'assistant_end']);
    expect(events.at(-1)).toMatchObject({ finish_reason: 'interrupted', session_id: s.publicId });
    // The context holds the user's words only: 1 item × 10 tokens.
    expect(events.find((e) => e.type === 'token_usage')).toMatchObject({ current: 10, limit: 1_000, threshold: 800 });
    const messages = await listMessages(database.db, s.uuid);
    expect(messages.map((m) => [m.role, m.content])).toEqual([['user', 'Hello there']]);
    expect(await new ContextStore(database.db, s.uuid).getItems()).toHaveLength(1);
    const { rows } = await database.db.query<{ total_tokens: number; turn_count: number }>('SELECT total_tokens, turn_count FROM sessions WHERE id = $1', [s.uuid]);
    expect(rows[0]).toEqual({ total_tokens: 10, turn_count: 1 });
  });

  it('a session deleted during the turn ends it with a database error the client can read, not a crash', async () => {
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Too ', 'late.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
    let saved = (): void => undefined;
    const wordsSaved = new Promise<void>((resolve) => (saved = resolve));
    const { deps, events, errors } = setup({
      // Deleted once the user's words are in (assistant_start says so), before the model is asked.
      tools: async () => {
        await wordsSaved;
        await database.db.query('DELETE FROM sessions WHERE id = $1', [s.uuid]);
        return [];
      },
    });
    deps.sink = {
      publish: (_uuid, event) => {
        events.push(event);
        if (event.type === 'assistant_start') saved();
      },
    };

    await expect(runTurn(deps, request(s))).resolves.toBe('error');

    const error = events.find((e) => e.type === 'error');
    expect(error).toMatchObject({ code: 'DB_8001', request_id: 'req-1' });
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'error' });
    expect(errors.map((e) => e.msg)).toContain('saving the turn failed');
  });

  it('a summary after the turn that throws is logged, and the turn still ends with stop and its answer kept', async () => {
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Kept.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
    const { deps, events, errors } = setup({
      hooks: { ...noHooks, afterTurn: () => 'summarize' },
      summarize: () => Promise.reject(new Error('summarizer down')),
    });

    await expect(runTurn(deps, request(s))).resolves.toBe('stop');

    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    expect(events.some((e) => e.type === 'error')).toBe(false);
    expect(errors.map((e) => e.msg)).toEqual(['summarizing after the turn failed']);
    expect((await listMessages(database.db, s.uuid)).map((m) => m.content)).toEqual(['Hello there', 'Kept.']);
  });

  it('a title hook that fails leaves the session untitled and the turn still ends with stop', async () => {
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Hi.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
    let called = 0;
    const { deps, events } = setup({
      hooks: {
        ...noHooks,
        title: () => {
          called++;
          return Promise.reject(new Error('title service down'));
        },
      },
    });

    await expect(runTurn(deps, request(s))).resolves.toBe('stop');

    await vi.waitFor(() => expect(called).toBe(1));
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
    expect(events.some((e) => e.type === 'error' || e.type === 'session_updated')).toBe(false);
    const { rows } = await database.db.query<{ title: string | null }>('SELECT title FROM sessions WHERE id = $1', [s.uuid]);
    expect(rows[0]!.title).toBeNull();
  });
});

describe('the model asked while the user’s words are saved', () => {
  // A save made slow (and, for some words, failing) by a trigger: the model's answer comes back
  // before it ends. The native adapter sends its text past the Runner, the path that must wait too.
  const native = (): TurnDeps['modelProvider'] => new NativeModelProvider(openAIEndpoint(fake.baseUrl, 'test'), 'chat_completions', { readTimeoutMs: 60_000, maxRetries: 0 });
  beforeAll(async () => {
    await database.db.query(`CREATE FUNCTION test_slow_words() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.role = 'user' AND (NEW.content LIKE 'slow save%' OR NEW.content LIKE 'cannot save%') THEN
          PERFORM count(*) FROM generate_series(1, 300000);
        END IF;
        IF NEW.role = 'user' AND NEW.content LIKE 'cannot save%' THEN RAISE EXCEPTION 'the words cannot be saved'; END IF;
        RETURN NEW;
      END $$`);
    await database.db.query('CREATE TRIGGER test_slow_words BEFORE INSERT ON messages FOR EACH ROW EXECUTE FUNCTION test_slow_words()');
  });
  afterAll(async () => {
    await database.db.query('DROP TRIGGER test_slow_words ON messages');
    await database.db.query('DROP FUNCTION test_slow_words()');
  });

  const said = (events: ServerEvent[]): string => events.flatMap((e) => (e.type === 'assistant_delta' ? [e.content] : [])).join('');

  it('says nothing before the words are saved, then all of the answer; the next turn’s model call has them once', async () => {
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Held ', 'till ', 'saved.'] }], usage: { input_tokens: 12, output_tokens: 3 } });
    const { deps, events } = setup({ modelProvider: native() });
    await expect(runTurn(deps, { ...request(s), contents: ['slow save, first'] })).resolves.toBe('stop');
    expect(events[0]).toMatchObject({ type: 'assistant_start' });
    expect(said(events)).toBe('Held till saved.');
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });

    fake.enqueue({ steps: [{ type: 'text', deltas: ['Again.'] }], usage: { input_tokens: 20, output_tokens: 1 } });
    const second = setup({ modelProvider: native() });
    await expect(runTurn(second.deps, { ...request(s), contents: ['slow save, second'] })).resolves.toBe('stop');
    const sent = (fake.requests.at(-1)?.body as { messages: Array<{ role: string; content: unknown }> }).messages.filter((m) => m.role !== 'system');
    const textOf = (content: unknown): string => (typeof content === 'string' ? content : (content as Array<{ text: string }>).map((p) => p.text).join(''));
    expect(sent.map((m) => [m.role, textOf(m.content)])).toEqual([
      ['user', 'slow save, first'],
      ['assistant', 'Held till saved.'],
      ['user', 'slow save, second'],
    ]);
    const messages = await listMessages(database.db, s.uuid);
    expect(messages.map((m) => [m.role, m.content])).toEqual([
      ['user', 'slow save, first'],
      ['assistant', 'Held till saved.'],
      ['user', 'slow save, second'],
      ['assistant', 'Again.'],
    ]);
  });

  it('a run that fails before the words are saved still says, and keeps, what the model said', async () => {
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Half an ', 'answer'] }, { type: 'tool_call', name: 'lookup', arguments: { word: 'x' }, callId: 'call_early' }] });
    const { deps, events } = setup({ modelProvider: native() });
    await expect(runTurn(deps, { ...request(s), contents: ['slow save, then a broken call'] })).resolves.toBe('error');
    expect(events[0]).toMatchObject({ type: 'assistant_start' });
    expect(said(events)).toBe('Half an answer');
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'EXT_7010' });
    const messages = await listMessages(database.db, s.uuid);
    expect(messages.slice(0, 2).map((m) => [m.role, m.content])).toEqual([
      ['user', 'slow save, then a broken call'],
      ['assistant', 'Half an answer'],
    ]);
  });

  it('words that cannot be saved end the turn with an error and none of the answer, and nothing is kept', async () => {
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Never ', 'shown.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
    const { deps, events } = setup({ modelProvider: native() });
    await expect(runTurn(deps, { ...request(s), contents: ['cannot save this'] })).resolves.toBe('error');
    expect(types(events)).toEqual(['assistant_start', 'error', 'assistant_end']);
    expect(events[1]).toMatchObject({ type: 'error', request_id: 'req-1' });
    expect(await listMessages(database.db, s.uuid)).toEqual([]);
    expect(await new ContextStore(database.db, s.uuid).getItems()).toEqual([]);
  });
});

describe('a turn that fails after the model streamed text', () => {
  it("a call of a tool the agent does not have ends as failed, and the model's context keeps what it said, marked", async () => {
    const s = await newSession();
    fake.enqueue({
      steps: [
        { type: 'text', deltas: ['Half an ', 'answer'] },
        { type: 'tool_call', name: 'lookup', arguments: { word: 'x' }, callId: 'call_broken' },
      ],
    });
    const { deps, events } = setup();

    await expect(runTurn(deps, request(s))).resolves.toBe('error');

    const completed = events.filter((e) => e.type === 'function_completed');
    expect(completed).toEqual([
      expect.objectContaining({
        tool_call_id: 'call_broken',
        tool_name: 'lookup',
        tool_result: 'The turn failed before the tool returned.',
        tool_success: false,
      }),
    ]);
    expect(completed[0]).not.toHaveProperty('interrupted');
    expect(events.find((e) => e.type === 'error')).toMatchObject({ code: 'EXT_7010', recoverable: true, request_id: 'req-1' });
    expect(events.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'error' });
    expect(events.some((e) => e.type === 'stream_interrupted')).toBe(false);

    const messages = await listMessages(database.db, s.uuid);
    expect(messages.map((m) => [m.role, m.content, m.tool_result, m.status])).toEqual([
      ['user', 'Hello there', null, null],
      // The tool call closed the text on screen, so the text is a whole segment there.
      ['assistant', 'Half an answer', null, null],
      ['tool_call', null, 'The turn failed before the tool returned.', 'failed'],
    ]);
    // The SDK failed before it added the response's items: the call never ran, so the context gets
    // no output for it, and the text the client saw is kept, marked.
    const items = await new ContextStore(database.db, s.uuid).getItems();
    expect(items.map((i) => (i as { type?: string; role?: string }).role ?? (i as { type: string }).type)).toEqual(['user', 'assistant']);
    expect(JSON.stringify(items[1])).toContain('Half an answer\\n\\n[interrupted by an error]');

    fake.enqueue({ steps: [{ type: 'text', deltas: ['Again.'] }] });
    await expect(runTurn(setup().deps, request(s))).resolves.toBe('stop');
    expect(JSON.stringify(fake.requests.at(-1)?.body.input)).toContain('Half an answer\\n\\n[interrupted by an error]');
  });
});

describe('turn metrics', () => {
  const read = async (deps: TurnDeps) => {
    const text = await deps.metrics.registry.metrics();
    const value = (line: string) => Number(new RegExp(`^${line.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
    return {
      stop: value('pulp_turns_total{finish_reason="stop"}'),
      interrupted: value('pulp_turns_total{finish_reason="interrupted"}'),
      error: value('pulp_turns_total{finish_reason="error"}'),
      input: value('pulp_tokens_total{direction="input"}'),
      output: value('pulp_tokens_total{direction="output"}'),
      firstToken: value('pulp_time_to_first_token_seconds_count'),
      durations: value('pulp_turn_duration_seconds_count'),
    };
  };

  it('count turns by how they ended, provider tokens by direction, and time to first token only when text came', async () => {
    const { deps } = setup();
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Hi.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
    await expect(runTurn(deps, request(s))).resolves.toBe('stop');
    expect(await read(deps)).toEqual({ stop: 1, interrupted: 0, error: 0, input: 12, output: 2, firstToken: 1, durations: 1 });

    const token = new CancellationToken();
    const stopped = { ...deps, tools: () => (token.cancel(new UserInterrupt()), Promise.resolve([])) };
    await expect(runTurn(stopped, request(s, token))).resolves.toBe('interrupted');
    fake.enqueue({ steps: [], error: { status: 500, message: 'down' } });
    await expect(runTurn(deps, request(s))).resolves.toBe('error');
    expect(await read(deps)).toEqual({ stop: 1, interrupted: 1, error: 1, input: 12, output: 2, firstToken: 1, durations: 3 });
  });
});

describe('what the hooks are given, and when they run', () => {
  const setTitle = (s: { uuid: string }, title: string, named: boolean) =>
    database.db.query('UPDATE sessions SET title = $2, is_named = $3 WHERE id = $1', [s.uuid, title, named]);

  it('the title hook runs after a stopped turn of a session without a title, with its first exchange; the turn saves and announces the title', async () => {
    const seen: Array<{ model: string; exchange: FirstExchange }> = [];
    const { deps, events } = setup({ hooks: { ...noHooks, title: async ({ session }, exchange) => (seen.push({ model: session.model, exchange: await exchange() }), 'Greetings') } });
    const s = await newSession();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Hi.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
    await expect(runTurn(deps, request(s))).resolves.toBe('stop');
    await vi.waitFor(() => expect(events.at(-1)).toMatchObject({ type: 'session_updated', title: 'Greetings', session_id: s.publicId }));
    expect(seen).toEqual([{ model: 'gpt-4o', exchange: { user: 'Hello there', assistant: 'Hi.' } }]);
    const { rows } = await database.db.query('SELECT title, is_named FROM sessions WHERE id = $1', [s.uuid]);
    expect(rows[0]).toEqual({ title: 'Greetings', is_named: false });
  });

  it('the title hook is not asked for a session that has a title, given or generated, nor after a turn that did not stop', async () => {
    let calls = 0;
    const { deps } = setup({ hooks: { ...noHooks, title: () => Promise.resolve(void calls++) } });
    const named = await newSession();
    await setTitle(named, 'Mine', true);
    const generated = await newSession();
    await setTitle(generated, 'Made up', false);
    for (const s of [named, generated]) {
      fake.enqueue({ steps: [{ type: 'text', deltas: ['Hi.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
      await expect(runTurn(deps, request(s))).resolves.toBe('stop');
    }
    fake.enqueue({ steps: [], error: { status: 500, message: 'down' } });
    await expect(runTurn(deps, request(await newSession()))).resolves.toBe('error');
    const token = new CancellationToken();
    await expect(runTurn({ ...deps, tools: () => (token.cancel(new UserInterrupt()), Promise.resolve([])) }, request(await newSession(), token))).resolves.toBe('interrupted');
    expect(calls).toBe(0);
  });

  it('afterTurn is asked only after a stop, with the session total the turn just saved, and its summary is not forced', async () => {
    const seen: Array<{ estimated: number; total: number }> = [];
    const forced: boolean[] = [];
    const { deps } = setup({
      hooks: { ...noHooks, afterTurn: (facts) => (seen.push({ estimated: facts.estimatedTokens, total: facts.session.total_tokens }), 'summarize') },
      summarize: (_facts, force) => (forced.push(force), noSummary(_facts, force)),
    });
    const s = await newSession();
    fake.enqueue({ steps: [], error: { status: 500, message: 'down' } });
    await expect(runTurn(deps, request(s))).resolves.toBe('error');
    const token = new CancellationToken();
    await expect(runTurn({ ...deps, tools: () => (token.cancel(new UserInterrupt()), Promise.resolve([])) }, request(s, token))).resolves.toBe('interrupted');
    expect(seen).toEqual([]);
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Hi.'] }], usage: { input_tokens: 40, output_tokens: 2 } });
    await expect(runTurn(deps, request(s))).resolves.toBe('stop');
    expect(seen).toEqual([{ estimated: 42, total: 42 }]);
    expect(forced).toEqual([false]);
  });

  it('a refusal before the model call takes the user item back out of the context and keeps the total right; a hook failure counts the user message', async () => {
    const s = await newSession();
    await database.db.query('UPDATE sessions SET total_tokens = 5 WHERE id = $1', [s.uuid]);
    const total = async () => (await database.db.query<{ total_tokens: number }>('SELECT total_tokens FROM sessions WHERE id = $1', [s.uuid])).rows[0]!.total_tokens;
    const seen: TurnFacts[] = [];
    const refusing = setup({ hooks: { ...noHooks, beforeModelCall: (facts) => (seen.push(facts), { kind: 'refuse', error: new AppError('CTX_4101') }) } });
    await expect(runTurn(refusing.deps, request(s))).resolves.toBe('error');
    expect(refusing.events.find((e) => e.type === 'error')).toMatchObject({ code: 'CTX_4101', recoverable: false, request_id: 'req-1' });
    expect(seen[0]).toMatchObject({ estimatedTokens: 15, contextWindow: 1_000, threshold: 800, requestId: 'req-1' });
    expect(await total()).toBe(5);
    expect(await new ContextStore(database.db, s.uuid).getItems()).toEqual([]);

    // Summarize first, still too large: the summary's total counted the user item (10 tokens),
    // so the turn takes it out of that total.
    const forced: boolean[] = [];
    const summarized = setup({
      hooks: {
        ...noHooks,
        beforeModelCall: () => ({ kind: 'summarize' }),
        afterSummary: (_facts, summary) => (summary.kind === 'summarized' && summary.tokensAfter === 37 ? { kind: 'refuse', error: new AppError('CTX_4101') } : { kind: 'continue' }),
      },
      summarize: (_facts, force) => (forced.push(force), Promise.resolve({ kind: 'summarized', tokensAfter: 37 })),
    });
    await expect(runTurn(summarized.deps, request(s))).resolves.toBe('error');
    expect(forced).toEqual([true]);
    expect(await total()).toBe(27);

    const broken = setup({
      hooks: { ...noHooks, beforeModelCall: () => ({ kind: 'summarize' }) },
      summarize: () => Promise.reject(new AppError('EXT_7001', 'summarizer unreachable')),
    });
    await expect(runTurn(broken.deps, request(s))).resolves.toBe('error');
    expect(await total()).toBe(27 + 10);
  });

  it('a turn that fails before it started still opens with assistant_start, then says why', async () => {
    const { deps, events } = setup();
    const ghost = { uuid: '00000000-0000-4000-8000-000000000000', publicId: 'chat_000000000000' };
    await expect(runTurn(deps, request(ghost))).resolves.toBe('error');
    expect(types(events)).toEqual(['assistant_start', 'error', 'assistant_end']);
  });

  it('times are observed in seconds', async () => {
    const { deps } = setup();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Hi.'] }], usage: { input_tokens: 12, output_tokens: 2 } });
    await expect(runTurn(deps, request(await newSession()))).resolves.toBe('stop');
    const text = await deps.metrics.registry.metrics();
    for (const name of ['pulp_time_to_first_token_seconds_sum', 'pulp_turn_duration_seconds_sum']) {
      const value = Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1]);
      expect(value, name).toBeGreaterThan(0);
      expect(value, name).toBeLessThan(30);
    }
  });
});
