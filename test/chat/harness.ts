/**
 * A real chat server for the chat tests: createHttpServer + migrate + registerChatSocket on
 * 127.0.0.1 port 0, a fresh database, the fake model server behind the real OpenAI provider, and
 * a `ws` client that collects events and lets a test await them (no sleeps).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OpenAIProvider, type AgentInputItem, type ModelProvider, type Tool } from '@openai/agents';
import { NativeModelProvider, openAIEndpoint } from '../../src/llm/adapters/index.js';
import OpenAI from 'openai';
import WebSocket from 'ws';
import type { AuthUser } from '../../src/auth/types.js';
import type { ChatService } from '../../src/chat/chat-service.js';
import type { Summarize, TurnHooks } from '../../src/chat/hooks.js';
import { sessionInstructions } from '../../src/chat/instructions.js';
import type { ServerEvent } from '../../src/chat/events.js';
import { registerChatSocket, type ChatDeps } from '../../src/chat/ws-routes.js';
import { loadConfig } from '../../src/config/config.js';
import { migrate } from '../../src/db/migrate.js';
import { AppError } from '../../src/errors/app-error.js';
import { createHttpServer, type PulpFastify } from '../../src/http/server.js';
import { createErrorClassifier } from '../../src/llm/provider.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import type { SessionRow } from '../../src/sessions/types.js';
import type { Budgets } from '../../src/config/config.js';
import { UsageMeter } from '../../src/usage/usage-meter.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { silentLogger } from '../support/server.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

export interface ChatHarness {
  app: PulpFastify;
  chat: ChatService;
  fake: FakeOpenAI;
  database: TestDatabase;
  wsUrl: string;
  metrics: Metrics;
  users: Record<'alice' | 'bob', AuthUser>;
  /** Which OpenAI API the model provider speaks from now on, and through which adapter (default native). */
  setApi(api: 'responses' | 'chat_completions', adapter?: 'native' | 'sdk'): void;
  createSession(owner?: 'alice' | 'bob', model?: string): Promise<SessionRow>;
  connect(sessionId: string, options?: { token?: string | null; via?: 'protocol' | 'query' }): Promise<TestClient>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  api?: 'responses' | 'chat_completions';
  tools?: Tool[];
  hooks?: Partial<TurnHooks>;
  summarize?: Summarize;
}

/** Hooks that let every turn call the model, never summarize and never title a session. */
export const noHooks: TurnHooks = {
  beforeModelCall: () => ({ kind: 'continue' }),
  afterSummary: () => ({ kind: 'continue' }),
  afterTurn: () => 'none',
  title: () => Promise.resolve(undefined),
};

/** No budget of any kind. */
export const NO_BUDGETS: Budgets = { tokensPerDay: undefined, tokensPerMonth: undefined, costPerDay: undefined, costPerMonth: undefined };

/** A summarizer with nothing to summarize. */
export const noSummary: Summarize = () => Promise.resolve({ kind: 'not_summarized' });

/** A session id whose lookup fails in the harness (as if the database were down). */
export const SESSION_LOOKUP_FAILS = 'chat_ffffffffffff';

/** ≈ 4 characters a token plus 10 per item: the shape of the real count without the tokenizer. */
export const roughCount = (_model: string, items: AgentInputItem[]): number =>
  items.reduce((n, item) => n + Math.ceil(JSON.stringify(item).length / 4) + 10, 0);

export async function startChatHarness(options: HarnessOptions = {}): Promise<ChatHarness> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'pulp-chat-'));
  // The tests of one file all connect as alice and leave sockets open; the per-user socket limit
  // has its own tests (connection-shares.test.ts).
  const config = loadConfig({ DATA_DIR: dataDir, PORT: '0', LLM_PROVIDER: 'openai', OPENAI_API_KEY: 'test', WS_MAX_CONNECTIONS_PER_USER: '1000', ...options.env });
  const database = await createTestDatabase();
  const db = database.db;
  await migrate(db);
  const fake = await startFakeOpenAI();
  const logger = silentLogger();
  const metrics = createMetrics();
  const app = await createHttpServer({ logger, metrics, debug: false, version: 'test' });

  const users = {} as Record<'alice' | 'bob', AuthUser>;
  for (const name of ['alice', 'bob'] as const) {
    const { rows } = await db.query<AuthUser>(
      'INSERT INTO users (email, display_name) VALUES ($1, $2) RETURNING id, email, display_name',
      [`${name}@example.test`, name],
    );
    users[name] = rows[0]!;
  }
  const openAIClient = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'test', maxRetries: 0 });
  const endpoint = openAIEndpoint(fake.baseUrl, 'test');
  const transport = { readTimeoutMs: 600_000, maxRetries: 0 };
  const providers = {
    native: {
      responses: new NativeModelProvider(endpoint, 'responses', transport),
      chat_completions: new NativeModelProvider(endpoint, 'chat_completions', transport),
    },
    sdk: {
      responses: new OpenAIProvider({ openAIClient, useResponses: true }),
      chat_completions: new OpenAIProvider({ openAIClient, useResponses: false }),
    },
  };
  let api = options.api ?? 'responses';
  let adapter: 'native' | 'sdk' = 'native';
  // One server per test file (a fresh database is slow); the API and adapter are switched between tests.
  const modelProvider: ModelProvider = { getModel: (name) => providers[adapter][api].getModel(name) };

  const chat = await registerChatSocket(app, {
    db,
    config,
    logger,
    metrics,
    authenticate: (token) => {
      if (token === undefined) return Promise.reject(new AppError('AUTH_1001'));
      // A token that makes the user lookup itself fail (the database is down, say).
      if (token === 'lookup-fails') return Promise.reject(new Error('user lookup failed: connection refused'));
      const user = users[token as 'alice' | 'bob'];
      return user ? Promise.resolve(user) : Promise.reject(new AppError('AUTH_1002'));
    },
    findOwnedSession: async (userId, publicId) => {
      if (publicId === SESSION_LOOKUP_FAILS) throw new Error('session lookup failed: connection refused');
      const { rows } = await db.query<SessionRow>('SELECT * FROM sessions WHERE user_id = $1 AND session_id = $2', [userId, publicId]);
      return rows[0] ?? null;
    },
    modelProvider,
    // The real ledger and budgets, priced and limited by MODEL_PRICES and QUOTA_* in `options.env`.
    usage: new UsageMeter({ db, logger, metrics, provider: 'openai', prices: config.usage.prices, budgets: config.usage.budgets }),
    tools: () => Promise.resolve(options.tools ?? []),
    instructions: (session) => sessionInstructions(db, session, false),
    countTokens: roughCount,
    contextWindow: () => 128_000,
    classifyError: createErrorClassifier(config.llm),
    hooks: { ...noHooks, ...options.hooks },
    summarize: options.summarize ?? noSummary,
  } satisfies ChatDeps);
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const wsUrl = address.replace(/^http/, 'ws');
  const clients: TestClient[] = [];
  let n = 0;

  return {
    app,
    chat,
    fake,
    database,
    wsUrl,
    metrics,
    users,
    setApi(next, nextAdapter = 'native') {
      api = next;
      adapter = nextAdapter;
    },
    async createSession(owner = 'alice', model = 'gpt-4o-mini') {
      n += 1;
      const publicId = `chat_${(Date.now() % 1e6).toString(16).padStart(6, '0')}${n.toString(16).padStart(6, '0')}`;
      const { rows } = await db.query<SessionRow>('INSERT INTO sessions (user_id, session_id, model) VALUES ($1, $2, $3) RETURNING *', [
        users[owner].id,
        publicId,
        model,
      ]);
      return rows[0]!;
    },
    async connect(sessionId, opts = {}) {
      const token = opts.token === undefined ? 'alice' : opts.token;
      const via = opts.via ?? 'protocol';
      const url = `${wsUrl}/ws/chat/${sessionId}${token !== null && via === 'query' ? `?token=${token}` : ''}`;
      const protocols = token !== null && via === 'protocol' ? ['bearer', token] : undefined;
      const client = await TestClient.open(url, protocols);
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.ws.terminate();
      await app.close();
      await fake.close();
      await database.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

type Waiter = { pred: (e: ServerEvent) => boolean; from: number; resolve: (e: ServerEvent) => void };

/** A `ws` client that records every event and resolves waiters as events arrive. */
export class TestClient {
  readonly events: ServerEvent[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  #waiters: Waiter[] = [];

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      const event = JSON.parse((data as Buffer).toString('utf8')) as ServerEvent;
      this.events.push(event);
      const index = this.events.length - 1;
      this.#waiters = this.#waiters.filter((w) => {
        if (index >= w.from && w.pred(event)) {
          w.resolve(event);
          return false;
        }
        return true;
      });
    });
    this.closed = new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: String(reason) })));
  }

  static open(url: string, protocols?: string[]): Promise<TestClient> {
    const ws = new WebSocket(url, protocols);
    const client = new TestClient(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  message(...contents: string[]): void {
    this.send({ type: 'message', messages: contents.map((content) => ({ content })) });
  }

  /** The first event (at or after index `from`) matching `pred`. */
  waitFor(pred: (e: ServerEvent) => boolean, from = 0): Promise<ServerEvent> {
    for (let i = from; i < this.events.length; i++) {
      const e = this.events[i]!;
      if (pred(e)) return Promise.resolve(e);
    }
    return new Promise((resolve) => this.#waiters.push({ pred, from, resolve }));
  }

  waitForType(type: ServerEvent['type'], from = 0): Promise<ServerEvent> {
    return this.waitFor((e) => e.type === type, from);
  }

  /** Waits for the `assistant_end` of the turn that starts at or after index `from`, returns its events. */
  async turn(from = 0): Promise<ServerEvent[]> {
    const start = await this.waitForType('assistant_start', from);
    await this.waitFor((e) => e.type === 'assistant_end' && e.turn_id === start.turn_id, from);
    return this.events.filter((e) => e.turn_id === start.turn_id);
  }
}

/** Field access on a wire event in tests. */
export function field<T = unknown>(e: ServerEvent | undefined, key: string): T {
  return (e as unknown as Record<string, T>)[key] as T;
}
