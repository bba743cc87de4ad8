/**
 * The configured model provider against the fake OpenAI-compatible server over real HTTP, in both
 * API modes, plus Azure's request shape and the /health description.
 */
import { Agent, Runner, tool, type RunStreamEvent } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

/** A fetch that records what the client sent, then forwards it to the fake server's matching route. */
function recordingFetch(seen: Array<{ url: string; headers: Headers }>, rewrite?: (url: URL) => string): typeof fetch {
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    seen.push({ url: url.toString(), headers: new Headers(init?.headers) });
    return fetch(rewrite ? rewrite(url) : url, init);
  };
}

describe.each([
  { mode: 'chat_completions', env: {} },
  { mode: 'responses', env: { OPENAI_API_MODE: 'responses' } },
] as const)('the openai provider in $mode mode', ({ mode, env }) => {
  it('streams an answer from an OpenAI-compatible server that needs no API key', async () => {
    const seen: Array<{ url: string; headers: Headers }> = [];
    const config = llm({ OPENAI_BASE_URL: fake.baseUrl, ...env });
    expect(config.apiMode).toBe(mode);
    const runner = new Runner({ modelProvider: createModelProvider(config, { fetch: recordingFetch(seen) }) });
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
    const seen: Array<{ url: string; headers: Headers }> = [];
    const runner = new Runner({ modelProvider: createModelProvider(llm({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'sk-test-123456789', ...env }), { fetch: recordingFetch(seen) }) });
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

  it('closes the HTTP request when the run is aborted', async () => {
    const runner = new Runner({ modelProvider: createModelProvider(llm({ OPENAI_BASE_URL: fake.baseUrl, ...env })) });
    fake.enqueue({ steps: [{ type: 'hang' }] });
    const controller = new AbortController();
    const arrived = fake.nextRequest();
    const result = await runner.run(new Agent({ name: 'a', model: 'm' }), 'hi', { stream: true, signal: controller.signal });
    const drained = collect(result).catch(() => []);
    const request = await arrived;
    const aborted = fake.nextAbort();
    controller.abort();
    expect(await aborted).toBe(request);
    await drained;
    await result.completed.catch(() => undefined);
  });
});

describe('the azure provider', () => {
  it('calls the deployment named by the model with the api-version and api-key header', async () => {
    const seen: Array<{ url: string; headers: Headers }> = [];
    const config = llm({ AZURE_OPENAI_ENDPOINT: 'https://pulp-test.openai.azure.com/', AZURE_OPENAI_API_KEY: 'azure-key-1', AZURE_OPENAI_API_VERSION: '2024-10-21', OPENAI_API_MODE: 'chat_completions' });
    const toFake = (url: URL) => `${fake.baseUrl}${url.pathname.replace(/^\/openai\/deployments\/[^/]+/, '')}`;
    const runner = new Runner({ modelProvider: createModelProvider(config, { fetch: recordingFetch(seen, toFake) }) });
    fake.enqueue({ steps: [{ type: 'text', deltas: ['From Azure.'] }] });

    const result = await runner.run(new Agent({ name: 'a', model: 'my-gpt4o-deployment' }), 'hi');

    expect(result.finalOutput).toBe('From Azure.');
    const sent = new URL(seen.at(-1)?.url ?? '');
    expect(sent.host).toBe('pulp-test.openai.azure.com');
    expect(sent.pathname).toBe('/openai/deployments/my-gpt4o-deployment/chat/completions');
    expect(sent.searchParams.get('api-version')).toBe('2024-10-21');
    expect(seen.at(-1)?.headers.get('api-key')).toBe('azure-key-1');
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
