/**
 * A scripted OpenAI-compatible HTTP server for tests (the model is a fake server the
 * tests start, never a mocked SDK). It serves POST /v1/responses, POST /v1/chat/completions
 * (streaming SSE and plain JSON) and GET /v1/models on 127.0.0.1, records every request, and
 * notices when a client closes a request before its answer ended (interrupt tests).
 *
 * Errors are answered with `x-should-retry: false` so the official client surfaces them at once
 * instead of retrying with back-off, whatever its `maxRetries`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export type FakeStep =
  | { type: 'text'; deltas: string[] }
  /** `count` text deltas made at send time by `text(i)` (cheap long streams; send timestamps in the text). */
  | { type: 'generated'; count: number; text: (i: number) => string }
  | { type: 'reasoning'; text: string }
  /** The model declines: a refusal message instead of text. */
  | { type: 'refusal'; text: string }
  | { type: 'tool_call'; name: string; arguments: Record<string, unknown>; callId?: string }
  | { type: 'wait'; until: Promise<unknown> }
  | { type: 'pace'; ms: number }
  | { type: 'hang' };
export interface FakeResponse {
  steps: FakeStep[];
  usage?: { input_tokens: number; output_tokens: number; cached_tokens?: number; reasoning_tokens?: number };
  /**
   * An error answer. `headers` are sent with it (e.g. `retry-after`); they replace the default
   * `x-should-retry: false`, so a test can let a client retry. `inStream` sends it as an SSE error
   * event after the answer started (status 200), the way providers report late failures.
   */
  error?: { status: number; message: string; code?: string; headers?: Record<string, string>; inStream?: boolean };
  /**
   * A streamed answer's body ends this long after its last event (`[DONE]` in Chat Completions):
   * a provider whose closing chunk comes in a later packet than the last event.
   */
  endAfterMs?: number;
}
export interface RecordedRequest {
  api: 'responses' | 'chat_completions';
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the raw wire body, read freely by tests
  body: any; // the parsed JSON body exactly as the SDK sent it
  stream: boolean;
  receivedAt: number;
  abortedAt?: number;
  completed: boolean;
}
export interface FakeOpenAI {
  baseUrl: string;
  requests: RecordedRequest[];
  enqueue(...responses: FakeResponse[]): void;
  setHandler(fn: ((req: RecordedRequest) => FakeResponse | undefined) | undefined): void;
  nextRequest(): Promise<RecordedRequest>;
  nextAbort(): Promise<RecordedRequest>;
  /** Requests a client holds open now (neither answered in full nor closed by the client). */
  openRequests(): number;
  /** Inputs received by `POST /v1/embeddings`, one entry per call. */
  embeddingInputs: string[][];
  /** TCP connections the server accepted so far (a client that keeps its connections alive opens few). */
  connections(): number;
  close(): Promise<void>;
}

/** Dimensions of the fake's embeddings. */
export const FAKE_EMBEDDING_DIMENSIONS = 256;

/**
 * The fake's deterministic embedding: hashed character trigrams of each word (so "palettes" lands
 * near "pallets" and "storehouse" near "warehouse"), unit length.
 */
export function fakeEmbedding(text: string): number[] {
  const v = new Array<number>(FAKE_EMBEDDING_DIMENSIONS).fill(0);
  for (const word of text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []) {
    const padded = ` ${word} `;
    for (let i = 0; i + 3 <= padded.length; i++) {
      let h = 2166136261;
      for (const ch of padded.slice(i, i + 3)) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619);
      v[(h >>> 0) % FAKE_EMBEDDING_DIMENSIONS]! += 1;
    }
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

/** Thrown inside a request's script when its client went away; ends the script quietly. */
class ClientGone extends Error {}

type Json = Record<string, unknown>;

/** Rough token estimate (≈ 4 characters a token), good enough for usage assertions. */
const estimateTokens = (text: string): number => (text.length === 0 ? 0 : Math.max(1, Math.ceil(text.length / 4)));

/** Splits a string into at most `parts` non-empty chunks, so arguments arrive as several deltas. */
function chunk(text: string, parts: number): string[] {
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/** One request's live state: its script is abortable by the client closing the connection. */
interface Live {
  gone: AbortSignal;
  paceMs: number;
  res: ServerResponse;
  stream: boolean;
}

async function pause(live: Live, ms: number): Promise<void> {
  if (ms <= 0) return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      live.gone.removeEventListener('abort', onGone);
      resolve();
    }
    function onGone(): void {
      clearTimeout(timer);
      reject(new ClientGone());
    }
    if (live.gone.aborted) onGone();
    else live.gone.addEventListener('abort', onGone, { once: true });
  });
}

/** Waits until `until` settles (forever when undefined) or the client goes away. */
async function waitFor(live: Live, until: Promise<unknown> | undefined): Promise<void> {
  let onGone = (): void => undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      onGone = (): void => reject(new ClientGone());
      if (live.gone.aborted) return onGone();
      live.gone.addEventListener('abort', onGone, { once: true });
      void until?.then(
        () => resolve(),
        () => resolve(),
      );
    });
  } finally {
    live.gone.removeEventListener('abort', onGone);
  }
}

/** What each API does with the script's output; `runScript` decides the timing. */
interface Emitter {
  reasoning(text: string): void;
  refusal(text: string): void;
  textStart(): void;
  textDelta(delta: string): void;
  textEnd(): void;
  toolCall(name: string, args: string, callId: string): void;
  toolArgs(delta: string): void;
  toolEnd(): void;
}
/**
 * Walks the script, calling `emit` for each output event; `wait`, `pace` and `hang` steps are
 * honoured here so both APIs share one timing model. Throws `ClientGone` if the client leaves.
 */
async function runScript(live: Live, steps: FakeStep[], n: number, emit: Emitter): Promise<void> {
  let calls = 0;
  for (const step of steps) {
    switch (step.type) {
      case 'pace':
        live.paceMs = step.ms;
        break;
      case 'wait':
        await waitFor(live, step.until);
        break;
      case 'hang':
        await waitFor(live, undefined);
        break;
      case 'reasoning':
        emit.reasoning(step.text);
        await pause(live, live.paceMs);
        break;
      case 'refusal':
        emit.refusal(step.text);
        await pause(live, live.paceMs);
        break;
      case 'text':
        emit.textStart();
        for (const delta of step.deltas) {
          emit.textDelta(delta);
          await pause(live, live.paceMs);
        }
        emit.textEnd();
        break;
      case 'generated': {
        emit.textStart();
        await generate(live, step, emit);
        emit.textEnd();
        break;
      }
      case 'tool_call': {
        const args = JSON.stringify(step.arguments);
        calls += 1;
        emit.toolCall(step.name, args, step.callId ?? `call_${n}_${calls}`);
        for (const part of chunk(args, 3)) {
          emit.toolArgs(part);
          await pause(live, live.paceMs);
        }
        emit.toolEnd();
        break;
      }
    }
  }
}

/**
 * A `generated` step is a load generator's answer: delta i is due at start + i × pace, whatever the
 * fake's own load. Waiting a pace after each write instead stretched a thousand paced answers to
 * twice their length (each wait began late), so a benchmark asked for 50 deltas a second got about
 * 27. Deltas already due go out together in one write, as a provider's behind-schedule stream
 * reaches its reader. Unpaced, every delta is due at once and is written as before.
 */
async function generate(live: Live, step: Extract<FakeStep, { type: 'generated' }>, emit: Emitter): Promise<void> {
  const paceMs = live.paceMs;
  if (paceMs <= 0) {
    for (let i = 0; i < step.count; i++) emit.textDelta(step.text(i));
    return;
  }
  const start = performance.now();
  let corked = false;
  for (let i = 0; i < step.count; i++) {
    emit.textDelta(step.text(i));
    const wait = start + (i + 1) * paceMs - performance.now();
    if (wait <= 0) {
      if (!corked) live.res.cork();
      corked = true;
      continue;
    }
    if (corked) live.res.uncork();
    corked = false;
    await pause(live, wait);
  }
  if (corked) live.res.uncork();
}

function usageOf(script: FakeResponse, body: Json, outputText: string, reasoning: string) {
  const input = script.usage?.input_tokens ?? estimateTokens(JSON.stringify(body.input ?? body.messages ?? '') + (typeof body.instructions === 'string' ? body.instructions : ''));
  const output = script.usage?.output_tokens ?? estimateTokens(outputText + reasoning);
  return { input, output, cached: script.usage?.cached_tokens ?? 0, reasoning: script.usage?.reasoning_tokens ?? estimateTokens(reasoning) };
}

/** Writes one SSE frame (the Responses API names its events; Chat Completions does not). */
function sse(live: Live, data: unknown, event?: string): void {
  if (!live.stream || live.res.destroyed) return;
  live.res.write(`${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`);
}

async function answerResponses(live: Live, body: Json, script: FakeResponse, n: number): Promise<Json> {
  const id = `resp_fake_${n}`;
  const model = typeof body.model === 'string' ? body.model : 'fake-model';
  const created_at = Math.floor(Date.now() / 1000);
  let seq = 0;
  const send = (type: string, fields: Json): void => sse(live, { type, sequence_number: seq++, ...fields }, type);
  const base = (status: string, output: Json[], usage: Json | null): Json => ({
    id, object: 'response', created_at, status, model, output, usage, error: null, incomplete_details: null,
    instructions: body.instructions ?? null, metadata: {}, parallel_tool_calls: true, temperature: null, top_p: null,
    tool_choice: body.tool_choice ?? 'auto', tools: body.tools ?? [], text: { format: { type: 'text' } },
  });
  const output: Json[] = [];
  let current: Json = {};
  let currentText = '';
  let allText = '';
  let allReasoning = '';
  const index = (): number => output.length;
  send('response.created', { response: base('in_progress', [], null) });
  send('response.in_progress', { response: base('in_progress', [], null) });
  await runScript(live, script.steps, n, {
    reasoning(text) {
      allReasoning += text;
      const item_id = `rs_${n}_${index()}`;
      const at = { item_id, output_index: index() };
      send('response.output_item.added', { output_index: index(), item: { id: item_id, type: 'reasoning', summary: [] } });
      send('response.reasoning_summary_part.added', { ...at, summary_index: 0, part: { type: 'summary_text', text: '' } });
      send('response.reasoning_summary_text.delta', { ...at, summary_index: 0, delta: text });
      send('response.reasoning_summary_text.done', { ...at, summary_index: 0, text });
      send('response.reasoning_summary_part.done', { ...at, summary_index: 0, part: { type: 'summary_text', text } });
      const item = { id: item_id, type: 'reasoning', summary: [{ type: 'summary_text', text }] };
      send('response.output_item.done', { output_index: index(), item });
      output.push(item);
    },
    refusal(text) {
      const item_id = `msg_${n}_${index()}`;
      const at = { item_id, output_index: index(), content_index: 0 };
      send('response.output_item.added', { output_index: index(), item: { id: item_id, type: 'message', status: 'in_progress', role: 'assistant', content: [] } });
      send('response.content_part.added', { ...at, part: { type: 'refusal', refusal: '' } });
      send('response.refusal.delta', { ...at, delta: text });
      send('response.refusal.done', { ...at, refusal: text });
      send('response.content_part.done', { ...at, part: { type: 'refusal', refusal: text } });
      const item = { id: item_id, type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'refusal', refusal: text }] };
      send('response.output_item.done', { output_index: index(), item });
      output.push(item);
    },
    textStart() {
      current = { id: `msg_${n}_${index()}`, type: 'message', status: 'in_progress', role: 'assistant', content: [] };
      currentText = '';
      send('response.output_item.added', { output_index: index(), item: current });
      send('response.content_part.added', { item_id: current.id, output_index: index(), content_index: 0, part: { type: 'output_text', text: '', annotations: [] } });
    },
    textDelta(delta) {
      currentText += delta;
      allText += delta;
      send('response.output_text.delta', { item_id: current.id, output_index: index(), content_index: 0, delta, logprobs: [] });
    },
    textEnd() {
      const text = currentText;
      const part = { type: 'output_text', text, annotations: [], logprobs: [] };
      send('response.output_text.done', { item_id: current.id, output_index: index(), content_index: 0, text, logprobs: [] });
      send('response.content_part.done', { item_id: current.id, output_index: index(), content_index: 0, part });
      const item = { id: current.id, type: 'message', status: 'completed', role: 'assistant', content: [part] };
      send('response.output_item.done', { output_index: index(), item });
      output.push(item);
    },
    toolCall(name, args, call_id) {
      current = { id: `fc_${n}_${index()}`, type: 'function_call', status: 'in_progress', call_id, name, arguments: '' };
      send('response.output_item.added', { output_index: index(), item: current });
      current = { ...current, arguments: args };
    },
    toolArgs(delta) {
      send('response.function_call_arguments.delta', { item_id: current.id, output_index: index(), delta });
    },
    toolEnd() {
      const item = { ...current, status: 'completed' };
      send('response.function_call_arguments.done', { item_id: current.id, output_index: index(), name: current.name, arguments: current.arguments });
      send('response.output_item.done', { output_index: index(), item });
      output.push(item);
    },
  });
  const u = usageOf(script, body, allText, allReasoning);
  const usage = {
    input_tokens: u.input, input_tokens_details: { cached_tokens: u.cached },
    output_tokens: u.output, output_tokens_details: { reasoning_tokens: u.reasoning }, total_tokens: u.input + u.output,
  };
  const final = base('completed', output, usage);
  send('response.completed', { response: final });
  return final;
}

async function answerChat(live: Live, body: Json, script: FakeResponse, n: number): Promise<Json> {
  const id = `chatcmpl-fake-${n}`;
  const model = typeof body.model === 'string' ? body.model : 'fake-model';
  const created = Math.floor(Date.now() / 1000);
  const send = (delta: Json, finish_reason: string | null = null): void =>
    sse(live, { id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason }] });
  const calls: Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> = [];
  let text = '';
  let reasoning = '';
  let refusal = '';
  send({ role: 'assistant', content: '' });
  await runScript(live, script.steps, n, {
    // vLLM/DeepSeek style servers name it `reasoning_content`, newer ones (and the SDK) `reasoning`.
    reasoning(t) {
      reasoning += t;
      send({ reasoning: t, reasoning_content: t });
    },
    refusal(t) {
      refusal += t;
      send({ refusal: t });
    },
    textStart() {},
    textDelta(delta) {
      text += delta;
      send({ content: delta });
    },
    textEnd() {},
    toolCall(name, _args, callId) {
      calls.push({ id: callId, type: 'function', function: { name, arguments: '' } });
      send({ tool_calls: [{ index: calls.length - 1, id: callId, type: 'function', function: { name, arguments: '' } }] });
    },
    toolArgs(delta) {
      const call = calls[calls.length - 1];
      if (call) call.function.arguments += delta;
      send({ tool_calls: [{ index: calls.length - 1, function: { arguments: delta } }] });
    },
    toolEnd() {},
  });
  const finish = calls.length > 0 ? 'tool_calls' : 'stop';
  const u = usageOf(script, body, text + calls.map((c) => c.function.arguments).join(''), reasoning);
  const usage = {
    prompt_tokens: u.input, completion_tokens: u.output, total_tokens: u.input + u.output,
    prompt_tokens_details: { cached_tokens: u.cached }, completion_tokens_details: { reasoning_tokens: u.reasoning },
  };
  send({}, finish);
  sse(live, { id, object: 'chat.completion.chunk', created, model, choices: [], usage });
  if (live.stream && !live.res.destroyed) live.res.write('data: [DONE]\n\n');
  const message: Json = { role: 'assistant', content: text === '' ? null : text, refusal: refusal === '' ? null : refusal };
  if (reasoning) Object.assign(message, { reasoning, reasoning_content: reasoning });
  if (calls.length > 0) message.tool_calls = calls;
  return { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }], usage };
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as Json) : {};
}

export interface FakeOptions {
  /** Listening sockets sharing the port (default 1); a load generator's fake takes bursts of connections. */
  acceptors?: number;
}

/** Starts the fake on 127.0.0.1 with a free port. */
export async function startFakeOpenAI(options: FakeOptions = {}): Promise<FakeOpenAI> {
  const requests: RecordedRequest[] = [];
  const embeddingInputs: string[][] = [];
  const queue: FakeResponse[] = [];
  let handler: ((req: RecordedRequest) => FakeResponse | undefined) | undefined;
  let requestWaiters: Array<(r: RecordedRequest) => void> = [];
  let abortWaiters: Array<(r: RecordedRequest) => void> = [];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const json = (status: number, payload: unknown, headers: Record<string, string> = {}): void => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(payload));
    };
    if (req.method === 'POST' && url.pathname === '/v1/embeddings') {
      const body = await readJson(req);
      const input = Array.isArray(body.input) ? body.input.map(String) : [String(body.input)];
      embeddingInputs.push(input);
      const data = input.map((text, index) => ({ object: 'embedding', index, embedding: fakeEmbedding(text) }));
      const tokens = input.reduce((sum, text) => sum + estimateTokens(text), 0);
      return json(200, { object: 'list', data, model: body.model, usage: { prompt_tokens: tokens, total_tokens: tokens } });
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return json(200, { object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] });
    }
    const api = url.pathname === '/v1/responses' ? 'responses' : url.pathname === '/v1/chat/completions' ? 'chat_completions' : undefined;
    if (req.method !== 'POST' || !api) {
      return json(404, { error: { message: `No route ${req.method} ${url.pathname}`, type: 'invalid_request_error', code: null, param: null } });
    }
    const body = await readJson(req);
    const record: RecordedRequest = { api, body, stream: body.stream === true, receivedAt: performance.now(), completed: false };
    requests.push(record);
    const n = requests.length;
    const gone = new AbortController();
    res.on('close', () => {
      if (res.writableEnded) return;
      record.abortedAt = performance.now();
      gone.abort();
      const waiters = abortWaiters;
      abortWaiters = [];
      for (const w of waiters) w(record);
    });
    const waiters = requestWaiters;
    requestWaiters = [];
    for (const w of waiters) w(record);

    const script = queue.shift() ?? handler?.(record) ?? { steps: [{ type: 'text', deltas: ['Fake ', 'answer ', `${n}.`] }] };
    const live: Live = { gone: gone.signal, paceMs: 0, res, stream: record.stream };
    if (script.error && !(script.error.inStream && record.stream)) {
      const { status, message, code, headers } = script.error;
      const type = status === 429 ? 'rate_limit_error' : status >= 500 ? 'server_error' : 'invalid_request_error';
      json(status, { error: { message, type, code: code ?? null, param: null } }, headers ?? { 'x-should-retry': 'false' });
      record.completed = true;
      return;
    }
    if (record.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
      res.flushHeaders();
    }
    try {
      if (script.error) {
        // A failure after the answer started: some output, then the provider's error event.
        await runScript(live, script.steps, n, { reasoning() {}, refusal() {}, textStart() {}, textDelta: (d) => sse(live, api === 'responses' ? { type: 'response.output_text.delta', delta: d } : { choices: [{ index: 0, delta: { content: d } }] }), textEnd() {}, toolCall() {}, toolArgs() {}, toolEnd() {} });
        const { message, code } = script.error;
        const error = { message, type: 'server_error', code: code ?? null, param: null };
        if (api === 'responses') sse(live, { type: 'error', sequence_number: 0, message, code: code ?? null, param: null }, 'error');
        else sse(live, { error });
        res.end();
        record.completed = true;
        return;
      }
      const answer = api === 'responses' ? await answerResponses(live, body, script, n) : await answerChat(live, body, script, n);
      if (record.stream && script.endAfterMs !== undefined) await pause(live, script.endAfterMs);
      if (record.stream) res.end();
      else json(200, answer);
      record.completed = true;
    } catch (err) {
      if (!(err instanceof ClientGone)) throw err;
    }
  }

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json', 'x-should-retry': 'false' });
      res.end(JSON.stringify({ error: { message: `fake server failure: ${String(err)}`, type: 'server_error', code: null, param: null } }));
    });
  };
  let connections = 0;
  const servers = Array.from({ length: Math.max(1, options.acceptors ?? 1) }, () => createServer(onRequest).on('connection', () => void connections++));
  // A provider accepts a burst of connections at once; Node's default queue of 511 pending ones
  // overflowed when a thousand turns started together, and the kernel's 1 s SYN retry was measured
  // as the server's time to first token. More acceptors share the port (SO_REUSEPORT): libuv takes
  // one connection per listening socket per turn of the event loop, so a fake busy streaming a
  // thousand answers took about a hundred new connections a second through a single socket.
  const reusePort = servers.length > 1;
  const listen = (server: Server, port: number): Promise<void> => new Promise((resolve) => server.listen({ port, host: '127.0.0.1', backlog: 4096, reusePort }, resolve));
  const [first, ...others] = servers as [Server, ...Server[]];
  await listen(first, 0);
  const { port } = first.address() as AddressInfo;
  for (const server of others) await listen(server, port);

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    embeddingInputs,
    connections: () => connections,
    enqueue: (...responses) => void queue.push(...responses),
    setHandler: (fn) => void (handler = fn),
    nextRequest: () => new Promise((resolve) => requestWaiters.push(resolve)),
    nextAbort: () => new Promise((resolve) => abortWaiters.push(resolve)),
    openRequests: () => requests.filter((r) => !r.completed && r.abortedAt === undefined).length,
    close: async () => {
      for (const server of servers) server.closeAllConnections();
      await Promise.all(servers.map((server) => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())))));
    },
  };
}
