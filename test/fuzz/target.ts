/**
 * What the fuzzers aim at: the whole server (createPulp) in jwt mode with the fake model, two
 * users, and a unique marker planted in user B's session title, message, file and API key name.
 * User A (the first account, so an administrator) sends everything; every answer A gets is
 * checked: never a 5xx, every error the JSON envelope with a registered code, and never B's marker.
 */
import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { expect } from 'vitest';
import WebSocket from 'ws';
import { percentEncode } from './arbitraries.js';
import { ERROR_CODES, type ErrorCode } from '../../src/errors/app-error.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse } from '../support/fake-openai.js';
import { turnItems } from '../support/request-items.js';
import { startTestServer, type TestServer } from '../support/server.js';

export interface Account {
  id: string;
  token: string;
  apiKey: string;
  apiKeyId: string;
  sessionId: string;
}

export interface Target {
  server: TestServer;
  fake: FakeOpenAI;
  port: number;
  a: Account;
  b: Account;
  /** Only in B's data; A must never see it. */
  marker: string;
  /** The name of B's file holding the marker (the name itself is not secret). */
  bFileName: string;
  close(): Promise<void>;
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Text a fuzzer may put in a path, query or body; replaced by the target's real ids when sent. */
export const PLACEHOLDERS = ['{A_SESSION}', '{B_SESSION}', '{A_USER}', '{A_KEY}', '{B_KEY}'] as const;

export function fillPlaceholders(text: string, target: Target): string {
  return text
    .replaceAll('{A_SESSION}', target.a.sessionId)
    .replaceAll('{B_SESSION}', target.b.sessionId)
    .replaceAll('{A_USER}', target.a.id)
    .replaceAll('{A_KEY}', target.a.apiKeyId)
    .replaceAll('{B_KEY}', target.b.apiKeyId);
}

/** Characters Node refuses in a request path are percent-encoded (as UTF-8); all others go as they are. */
export function sendablePath(text: string): string {
  return Array.from(text, (ch) => (/^[\x21-\x7e]$/.test(ch) ? ch : percentEncode(ch))).join('');
}

/** An HTTP request whose path is sent exactly as given (fetch would normalize `..` and `%2e`). */
export function rawRequest(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port, method, path, headers: { ...headers, ...(body ? { 'content-length': String(body.length) } : {}) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const ENVELOPE_CODE = /^[A-Z]+_\d{4}$/;

/**
 * The properties every answer to user A must have. Throws (with `label` and the answer) when one
 * fails, so fast-check reports and shrinks the input.
 */
export function expectSafeAnswer(target: Target, res: RawResponse, label: string): void {
  const text = res.body.toString('utf8');
  const context = `${label} → ${res.status} ${text.slice(0, 300)}`;
  expect(res.status, context).toBeLessThan(500);
  expect(text.includes(target.marker), `another user's data in ${context}`).toBe(false);
  if (res.status < 400) return;
  expect(String(res.headers['content-type']), context).toMatch(/^application\/json/);
  // A HEAD answer has the headers of the envelope but no body.
  if (label.startsWith('HEAD ')) return;
  const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown; request_id?: unknown } };
  const code = String(body.error?.code);
  expect(code, context).toMatch(ENVELOPE_CODE);
  expect(ERROR_CODES[code as ErrorCode]?.status, `${context}: the code's registered status`).toBe(res.status);
  expect(typeof body.error?.message, context).toBe('string');
  expect(typeof body.error?.request_id, context).toBe('string');
}

/** The server still answers and reports itself healthy. */
export async function expectHealthy(target: Target): Promise<void> {
  const res = await rawRequest(target.port, 'GET', '/api/v1/health', {});
  expect(res.status, res.body.toString()).toBe(200);
  expect(JSON.parse(res.body.toString()) as { status: string }).toMatchObject({ status: 'healthy' });
}

/** Counts of what a fuzz file sent, printed at its end for docs/security.md. */
export class Figures {
  readonly #inputs = new Map<string, number>();
  readonly #statuses = new Map<string, number>();

  count(kind: string, status?: number, times = 1): void {
    this.#inputs.set(kind, (this.#inputs.get(kind) ?? 0) + times);
    if (status !== undefined) {
      const family = `${Math.floor(status / 100)}xx`;
      this.#statuses.set(family, (this.#statuses.get(family) ?? 0) + 1);
    }
  }

  summary(): string {
    const inputs = [...this.#inputs].map(([kind, n]) => `${kind} ${n}`).join(', ');
    const statuses = [...this.#statuses].sort().map(([family, n]) => `${family} ${n}`).join(', ');
    return `inputs: ${inputs}; answers: ${statuses || 'none over HTTP'}; 5xx: ${this.#statuses.get('5xx') ?? 0}`;
  }
}

/** A tool call the fake model makes when a user message is `TOOL <name> <json arguments>`. */
const TOOL_MESSAGE = /^TOOL (\w+) ([\s\S]*)$/;

/**
 * The fake model: a `TOOL name {args}` message makes one tool call with those arguments, then
 * answers "ok"; `ECHO "text"` is answered with that text (hostile model output); `settle-N` is
 * answered `settled settle-N`; anything else "ok" at once.
 */
function scriptModel(fake: FakeOpenAI): void {
  fake.setHandler((request): FakeResponse => {
    const { user, after } = turnItems(request);
    const call = TOOL_MESSAGE.exec(user);
    if (call && !after.some((item) => item.type === 'function_call_output')) {
      let args: unknown;
      try {
        args = JSON.parse(call[2]!);
      } catch {
        args = { raw: call[2] };
      }
      const argumentsObject = args !== null && typeof args === 'object' && !Array.isArray(args) ? (args as Record<string, unknown>) : { value: args };
      return { steps: [{ type: 'tool_call', name: call[1]!, arguments: argumentsObject }] };
    }
    // `ECHO "json string"`: the model answers with that text, whatever it holds.
    if (user.startsWith('ECHO ')) {
      let text: unknown;
      try {
        text = JSON.parse(user.slice(5));
      } catch {
        text = user.slice(5);
      }
      return { steps: [{ type: 'text', deltas: [String(text)] }] };
    }
    // The last message of a fuzzed socket: its answer names it, so the fuzzer knows its turn.
    if (user.startsWith('settle-')) return { steps: [{ type: 'text', deltas: [`settled ${user}`] }] };
    return { steps: [{ type: 'text', deltas: ['ok'] }] };
  });
}

async function json(res: RawResponse, expected: number, what: string): Promise<Record<string, unknown>> {
  if (res.status !== expected) throw new Error(`${what}: ${res.status} ${res.body.toString()}`);
  return Promise.resolve(JSON.parse(res.body.toString()) as Record<string, unknown>);
}

/** Runs one chat turn over the socket and resolves when it ended. */
async function chatTurn(wsUrl: string, account: { token: string; sessionId: string }, content: string): Promise<void> {
  const ws = new WebSocket(`${wsUrl}/ws/chat/${account.sessionId}`, ['bearer', account.token]);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data: Buffer) => {
        const event = JSON.parse(data.toString('utf8')) as { type: string; finish_reason?: string };
        if (event.type !== 'assistant_end') return;
        if (event.finish_reason === 'stop') resolve();
        else reject(new Error(`turn ended: ${event.finish_reason}`));
      });
      ws.once('open', () => ws.send(JSON.stringify({ type: 'message', messages: [{ content }] })));
      ws.once('error', reject);
    });
  } finally {
    ws.terminate();
  }
}

async function makeAccount(target: Pick<Target, 'port' | 'server'>, email: string, secret: string | undefined): Promise<Account> {
  const post = (path: string, body: unknown, token?: string) =>
    rawRequest(target.port, 'POST', `/api/v1${path}`, { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, Buffer.from(JSON.stringify(body)));
  const registered = await json(await post('/auth/register', { email, password: 'correct horse battery', display_name: email.split('@')[0] }), 201, 'register');
  const token = String(registered.access_token);
  const user = registered.user as { id: string };
  const session = await json(await post('/sessions', { title: secret ?? 'A at work' }, token), 201, 'create session');
  const key = await json(await post('/api-keys', { name: secret ?? 'A key' }, token), 201, 'create API key');
  const sessionId = String(session.session_id);
  const fileName = secret ? 'secret-notes.txt' : 'notes.txt';
  const boundary = 'fuzzsetupboundary';
  const upload = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: text/plain\r\n\r\n${secret ?? 'A notes'}\r\n--${boundary}--\r\n`,
  );
  await json(
    await rawRequest(target.port, 'POST', `/api/v1/sessions/${sessionId}/files`, { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: `Bearer ${token}` }, upload),
    201,
    'upload',
  );
  await chatTurn(target.server.wsUrl, { token, sessionId }, secret ? `remember ${secret}` : 'hello');
  return { id: user.id, token, apiKey: String(key.key), apiKeyId: String(key.id), sessionId };
}

/** Starts the server and the fake model, and makes A (administrator) and B (with the marker). */
export async function startTarget(): Promise<Target> {
  const fake = await startFakeOpenAI();
  scriptModel(fake);
  const server = await startTestServer({
    AUTH_MODE: 'jwt',
    JWT_SECRET: 'fuzz-target-secret-0123456789abcdef',
    ALLOW_REGISTRATION: 'true',
    AUTH_RATE_LIMIT_PER_MIN: '1000000',
    WS_MAX_CONNECTIONS_PER_SESSION: '1000',
    // The per-user limits would refuse most of the fuzzer's inputs before they reach what they
    // test; test/limits covers the limits themselves.
    USER_MESSAGES_PER_MIN: '0',
    USER_WRITES_PER_MIN: '0',
    USER_MAX_CONCURRENT_TURNS: '0',
    WS_MAX_CONNECTIONS_PER_USER: '1000',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    LLM_PROVIDER: 'openai',
    OPENAI_API_MODE: 'responses',
    DEFAULT_MODEL: 'gpt-4o-mini',
    MAX_UPLOAD_BYTES: '65536',
  });
  const port = Number(new URL(server.baseUrl).port);
  const marker = `zq${randomBytes(12).toString('hex')}`;
  const a = await makeAccount({ port, server }, 'alice@example.test', undefined);
  const b = await makeAccount({ port, server }, 'bob@example.test', marker);
  return {
    server,
    fake,
    port,
    a,
    b,
    marker,
    bFileName: 'secret-notes.txt',
    async close() {
      await server.close();
      await fake.close();
    },
  };
}

/** B's data is still whole: nothing A sent changed or removed it. */
export async function expectBUntouched(target: Target): Promise<void> {
  const auth = { authorization: `Bearer ${target.b.token}` };
  const session = await rawRequest(target.port, 'GET', `/api/v1/sessions/${target.b.sessionId}`, auth);
  expect(session.status).toBe(200);
  const text = session.body.toString();
  expect(text).toContain(`"title":"${target.marker}"`);
  expect(text).toContain(`remember ${target.marker}`);
  const file = await rawRequest(target.port, 'GET', `/api/v1/sessions/${target.b.sessionId}/files/input/${target.bFileName}`, auth);
  expect(file.body.toString()).toBe(target.marker);
  const keys = await rawRequest(target.port, 'GET', '/api/v1/api-keys', auth);
  expect(keys.body.toString()).toContain(target.marker);
}

/** The Authorization header for a fuzzed request. */
export function authHeader(target: Target, auth: 'access' | 'api_key' | 'none' | 'garbage'): Record<string, string> {
  if (auth === 'access') return { authorization: `Bearer ${target.a.token}` };
  if (auth === 'api_key') return { authorization: `Bearer ${target.a.apiKey}` };
  if (auth === 'garbage') return { authorization: 'Bearer eyJhbGciOiJub25lIn0.e30.' };
  return {};
}
