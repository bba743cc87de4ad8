/**
 * The configured model provider against the fake OpenAI-compatible server over real HTTP, with
 * both adapters (Pulp's native ones and the Agents SDK's) in both API modes, plus Azure's request
 * shape and the /health description.
 */
import { createServer, type AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Agent, Runner, tool, type RunStreamEvent } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent as UndiciAgent, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { createErrorClassifier, createModelProvider, describeLlm, type LlmConfig } from '../../src/llm/provider.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

function llm(env: Record<string, string | undefined>): LlmConfig {
  return loadConfig(env).llm;
}

async function collect(stream: AsyncIterable<RunStreamEvent>): Promise<RunStreamEvent[]> {
  const events: RunStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

type Seen = Array<{ url: string; headers: Headers }>;

/** A fetch (the SDK adapters' HTTP) that records what the client sent, then forwards it to the fake server's matching route. */
function recordingFetch(seen: Seen, rewrite?: (url: URL) => string): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    seen.push({ url: url.toString(), headers: new Headers(init?.headers) });
    return fetch(rewrite ? rewrite(url) : url, init);
  };
}

/** The same for the native adapters' HTTP: an undici dispatcher that records, then forwards. */
function recordingDispatcher(seen: Seen, rewrite?: (url: URL) => string): Dispatcher {
  return new UndiciAgent().compose((dispatch) => (options, handler) => {
    const url = new URL(options.path, options.origin);
    seen.push({ url: url.toString(), headers: new Headers(options.headers as Record<string, string>) });
    if (!rewrite) return dispatch(options, handler);
    const to = new URL(rewrite(url));
    return dispatch({ ...options, origin: to.origin, path: `${to.pathname}${to.search}` }, handler);
  });
}

/** Both recorders: the provider uses the one of its adapter. */
const recording = (seen: Seen, rewrite?: (url: URL) => string) => ({ fetch: recordingFetch(seen, rewrite), dispatcher: recordingDispatcher(seen, rewrite) });

/** Every test below runs once per adapter: `LLM_ADAPTER` picks who speaks the wire format. */
const ADAPTERS = ['native', 'sdk'] as const;

describe.each(
  ADAPTERS.flatMap((adapter) => [
    { adapter, mode: 'chat_completions', env: { LLM_ADAPTER: adapter } },
    { adapter, mode: 'responses', env: { LLM_ADAPTER: adapter, OPENAI_API_MODE: 'responses' } },
  ] as const),
)('the openai provider with the $adapter adapter in $mode mode', ({ adapter, mode, env }) => {
  it('streams an answer from an OpenAI-compatible server that needs no API key', async () => {
    const seen: Seen = [];
    const config = llm({ OPENAI_BASE_URL: fake.baseUrl, ...env });
    expect(config.apiMode).toBe(mode);
    const runner = new Runner({ modelProvider: createModelProvider(config, recording(seen)) });
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Local ', 'model ', 'here.'] }], usage: { input_tokens: 11, output_tokens: 3 } });

    const result = await runner.run(new Agent({ name: 'a', model: 'llama3' }), 'Hello', { stream: true });
    await collect(result);
    await result.completed;

    expect(result.finalOutput).toBe('Local model here.');
    expect(result.state.usage.inputTokens).toBe(11);
    const request = fake.requests.at(-1);
    expect(request?.api).toBe(mode);
    expect(request?.body.model).toBe('llama3');
    expect(seen.at(-1)?.headers.get('authorization')).toBe('Bearer not-needed');
  });

  it('sends the configured key and completes a tool round trip', async () => {
    const seen: Seen = [];
    const runner = new Runner({ modelProvider: createModelProvider(llm({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'sk-test-123456789', ...env }), recording(seen)) });
    const weather = tool({ name: 'weather', description: 'weather', parameters: z.object({ city: z.string() }), execute: ({ city }) => `sunny in ${city}` });
    fake.enqueue(
      { steps: [{ type: 'tool_call', name: 'weather', arguments: { city: 'Oslo' }, callId: 'call_w' }] },
      { steps: [{ type: 'text', deltas: ['Sunny.'] }] },
    );
    const result = await runner.run(new Agent({ name: 'a', model: 'gpt-4o-mini', tools: [weather] }), 'Weather in Oslo?', { stream: true });
    await collect(result);
    await result.completed;

    expect(result.finalOutput).toBe('Sunny.');
    expect(JSON.stringify(fake.requests.at(-1)?.body)).toContain('sunny in Oslo');
    expect(seen.every((s) => s.headers.get('authorization') === 'Bearer sk-test-123456789')).toBe(true);
  });

  it('surfaces a 429 at once as EXT_7003 and a 500 as EXT_7010 without the key', async () => {
    const config = llm({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'sk-live-abcdefghijkl', ...env });
    const runner = new Runner({ modelProvider: createModelProvider(config) });
    const classify = createErrorClassifier(config);
    const agent = new Agent({ name: 'a', model: 'gpt-4o-mini' });

    fake.enqueue({ steps: [], error: { status: 429, message: 'Rate limit reached for requests', code: 'rate_limit_exceeded' } });
    const before = fake.requests.length;
    const limited = await runner.run(agent, 'hi').catch((err: unknown) => err);
    expect(fake.requests.length - before).toBe(1);
    expect(classify(limited)).toMatchObject({ code: 'EXT_7003', status: 429 });

    fake.enqueue({ steps: [], error: { status: 500, message: 'Incorrect API key provided: sk-live-abcdefghijkl' } });
    const failed = classify(await runner.run(agent, 'hi').catch((err: unknown) => err));
    expect(failed).toMatchObject({ code: 'EXT_7010', status: 502 });
    expect(failed.message).toContain('HTTP 500');
    expect(failed.message).toContain('Incorrect API key provided');
    expect(failed.message).not.toContain('abcdefghijkl');
  });

  // The SDK's adapters stop reading at the last event and close the connection: a new one per answer.
  it.runIf(adapter === 'native')('keeps its connection to the provider for the next answer when the body ends after the last event', async () => {
    // A connection pool of this test's own, for either adapter's HTTP.
    const pool = new UndiciAgent();
    const viaPool: typeof fetch = (input, init) => fetch(input, { ...init, dispatcher: pool } as RequestInit);
    const runner = new Runner({ modelProvider: createModelProvider(llm({ OPENAI_BASE_URL: fake.baseUrl, ...env }), { dispatcher: pool, fetch: viaPool }) });
    const agent = new Agent({ name: 'a', model: 'm' });
    const before = fake.connections();
    for (const word of ['One', 'Two', 'Three', 'Four']) {
      // The closing chunk of the body comes 5 ms after the answer's last event, in a packet of its
      // own; an answer takes 60 ms. The second answer starts while the first connection still waits
      // for its closing chunk, so it opens another; from then on the two take turns.
      fake.enqueue({ steps: [{ type: 'pace', ms: 30 }, { type: 'text', deltas: [word, '.'] }], endAfterMs: 5 });
      const result = await runner.run(agent, 'hi', { stream: true });
      await collect(result);
      await result.completed;
      expect(result.finalOutput).toBe(`${word}.`);
    }
    expect(fake.connections() - before).toBe(2);
    await pool.close();
  });

  it('closes the HTTP request when the run is aborted', async () => {
    const runner = new Runner({ modelProvider: createModelProvider(llm({ OPENAI_BASE_URL: fake.baseUrl, ...env })) });
    fake.enqueue({ steps: [{ type: 'hang' }] });
    const controller = new AbortController();
    const arrived = fake.nextRequest();
    const result = await runner.run(new Agent({ name: 'a', model: 'm' }), 'hi', { stream: true, signal: controller.signal });
    const drained = collect(result).catch(() => []);
    const request = await arrived;
    const aborted = fake.nextAbort();
    const abortedAt = performance.now();
    controller.abort();
    expect(await aborted).toBe(request);
    await drained;
    await result.completed.catch(() => undefined);
    // An interrupt must stop a turn within 500 ms: the server saw the client go, the run ended.
    expect(performance.now() - abortedAt).toBeLessThan(500);
  });

  it('streams reasoning deltas as raw events and reports cached and reasoning tokens', async () => {
    const runner = new Runner({ modelProvider: createModelProvider(llm({ OPENAI_BASE_URL: fake.baseUrl, ...env })) });
    fake.enqueue({ steps: [{ type: 'reasoning', text: 'Thinking.' }, { type: 'text', deltas: ['Done.'] }], usage: { input_tokens: 30, output_tokens: 8, cached_tokens: 16, reasoning_tokens: 4 } });
    const result = await runner.run(new Agent({ name: 'a', model: 'm' }), 'Think', { stream: true });
    const events = await collect(result);
    await result.completed;

    const raw = events.flatMap((e) => (e.type === 'raw_model_stream_event' && e.data.type === 'model' ? [JSON.stringify(e.data.event)] : []));
    expect(raw.some((r) => r.includes('Thinking.'))).toBe(true);
    expect(result.newItems.map((i) => i.type)).toEqual(['reasoning_item', 'message_output_item']);
    const usage = result.state.usage;
    expect({ input: usage.inputTokens, output: usage.outputTokens, total: usage.totalTokens }).toEqual({ input: 30, output: 8, total: 38 });
    expect(usage.inputTokensDetails[0]?.cached_tokens).toBe(16);
    expect(usage.outputTokensDetails[0]?.reasoning_tokens).toBe(4);
  });

  it('retries a 429 once when the provider allows it, then reports EXT_7003', async () => {
    const config = llm({ OPENAI_BASE_URL: fake.baseUrl, ...env });
    const runner = new Runner({ modelProvider: createModelProvider(config) });
    // retry-after: 0 lets the client retry at once; both attempts are refused.
    const limited = { steps: [], error: { status: 429, message: 'Rate limit reached', code: 'rate_limit_exceeded', headers: { 'retry-after': '0' } } };
    fake.enqueue(limited, limited);
    const before = fake.requests.length;
    const err = await runner.run(new Agent({ name: 'a', model: 'm' }), 'hi', { stream: true }).then(async (r) => {
      await collect(r);
      await r.completed;
    }).catch((e: unknown) => e);
    expect(fake.requests.length - before).toBe(2);
    expect(createErrorClassifier(config)(err)).toMatchObject({ code: 'EXT_7003', status: 429 });
    expect((err as { status?: number }).status).toBe(429);
  });

  it('reports a context overflow as CTX_4101 and other 4xx as EXT_7010', async () => {
    const config = llm({ OPENAI_BASE_URL: fake.baseUrl, ...env });
    const runner = new Runner({ modelProvider: createModelProvider(config) });
    const classify = createErrorClassifier(config);
    const agent = new Agent({ name: 'a', model: 'm' });
    fake.enqueue({ steps: [], error: { status: 400, message: "This model's maximum context length is 128000 tokens.", code: 'context_length_exceeded' } });
    expect(classify(await runner.run(agent, 'hi').catch((e: unknown) => e))).toMatchObject({ code: 'CTX_4101', status: 413 });
    fake.enqueue({ steps: [], error: { status: 401, message: 'Unauthorized' } });
    expect(classify(await runner.run(agent, 'hi').catch((e: unknown) => e))).toMatchObject({ code: 'EXT_7010', status: 502 });
  });

  it('fails the run as EXT_7010 when an error arrives inside a started stream', async () => {
    const config = llm({ OPENAI_BASE_URL: fake.baseUrl, ...env });
    const runner = new Runner({ modelProvider: createModelProvider(config) });
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Part'] }], error: { status: 500, message: 'The server had an error while processing', code: 'server_error', inStream: true } });
    const result = await runner.run(new Agent({ name: 'a', model: 'm' }), 'hi', { stream: true });
    const err = await collect(result).catch((e: unknown) => e);
    await result.completed.catch(() => undefined);
    // No HTTP status to report: the classifier's generic provider failure, the words kept for the log.
    expect(createErrorClassifier(config)(err)).toMatchObject({ code: 'EXT_7010', status: 502 });
    expect((err as Error).message).toContain('The server had an error while processing');
  });

  it('reports a server that refuses connections as unreachable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const config = llm({ OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`, ...env });
    const runner = new Runner({ modelProvider: createModelProvider(config) });
    const err = await runner.run(new Agent({ name: 'a', model: 'm' }), 'hi').catch((e: unknown) => e);
    expect(createErrorClassifier(config)(err)).toMatchObject({ code: 'EXT_7010', message: 'Could not reach the model provider (connection failed).' });
  });
});

describe.each(ADAPTERS)('the azure provider with the %s adapter', (adapter) => {
  it('calls the deployment named by the model with the api-version and api-key header', async () => {
    const seen: Seen = [];
    const config = llm({ AZURE_OPENAI_ENDPOINT: 'https://pulp-test.openai.azure.com/', AZURE_OPENAI_API_KEY: 'azure-key-1', AZURE_OPENAI_API_VERSION: '2024-10-21', OPENAI_API_MODE: 'chat_completions', LLM_ADAPTER: adapter });
    const toFake = (url: URL) => `${fake.baseUrl}${url.pathname.replace(/^\/openai\/deployments\/[^/]+/, '')}`;
    const runner = new Runner({ modelProvider: createModelProvider(config, recording(seen, toFake)) });
    fake.enqueue({ steps: [{ type: 'text', deltas: ['From Azure.'] }] });

    const result = await runner.run(new Agent({ name: 'a', model: 'my-gpt4o-deployment' }), 'hi');

    expect(result.finalOutput).toBe('From Azure.');
    const sent = new URL(seen.at(-1)?.url ?? '');
    expect(sent.host).toBe('pulp-test.openai.azure.com');
    expect(sent.pathname).toBe('/openai/deployments/my-gpt4o-deployment/chat/completions');
    expect(sent.searchParams.get('api-version')).toBe('2024-10-21');
    expect(seen.at(-1)?.headers.get('api-key')).toBe('azure-key-1');
    expect(seen.at(-1)?.headers.get('authorization')).toBeNull();
  });

  it('sends Responses requests to /openai/responses with the deployment as the model', async () => {
    const seen: Seen = [];
    const config = llm({ AZURE_OPENAI_ENDPOINT: 'https://pulp-test.openai.azure.com', AZURE_OPENAI_API_KEY: 'azure-key-2', AZURE_OPENAI_API_VERSION: '2025-03-01-preview', LLM_ADAPTER: adapter });
    expect(config.apiMode).toBe('responses');
    const runner = new Runner({ modelProvider: createModelProvider(config, recording(seen, () => `${fake.baseUrl}/responses`)) });
    fake.enqueue({ steps: [{ type: 'text', deltas: ['From ', 'Azure.'] }] });

    const result = await runner.run(new Agent({ name: 'a', model: 'my-deployment' }), 'hi', { stream: true });
    await collect(result);
    await result.completed;

    expect(result.finalOutput).toBe('From Azure.');
    const sent = new URL(seen.at(-1)?.url ?? '');
    expect(sent.host).toBe('pulp-test.openai.azure.com');
    expect(sent.pathname).toBe('/openai/responses');
    expect(sent.searchParams.get('api-version')).toBe('2025-03-01-preview');
    expect(seen.at(-1)?.headers.get('api-key')).toBe('azure-key-2');
    expect(fake.requests.at(-1)?.body.model).toBe('my-deployment');
  });

  it('refuses to start without an Azure key', () => {
    const config = llm({ AZURE_OPENAI_ENDPOINT: 'https://pulp-test.openai.azure.com' });
    expect(() => createModelProvider(config)).toThrow(ConfigError);
    expect(() => createModelProvider(config)).toThrow(/AZURE_OPENAI_API_KEY/);
  });
});

describe('the provider description for /health', () => {
  it('names the provider and API mode without hosts or keys', () => {
    expect(describeLlm(llm({}))).toEqual({ provider: 'offline', mode: 'offline' });
    expect(describeLlm(llm({ OPENAI_API_KEY: 'sk-abcdefgh' }))).toEqual({ provider: 'openai', mode: 'responses' });
    expect(describeLlm(llm({ OPENAI_BASE_URL: 'http://localhost:11434/v1' }))).toEqual({ provider: 'openai', mode: 'chat_completions' });
    expect(describeLlm(llm({ AZURE_OPENAI_ENDPOINT: 'https://x.openai.azure.com', AZURE_OPENAI_API_KEY: 'k' }))).toEqual({ provider: 'azure', mode: 'responses' });
  });

  it('serves the offline model when nothing is configured', async () => {
    const runner = new Runner({ modelProvider: createModelProvider(llm({}), { offline: { wordDelayMs: 0 } }) });
    const result = await runner.run(new Agent({ name: 'a', model: 'offline' }), 'hi');
    expect(result.finalOutput).toContain("Pulp's offline model");
  });
});
