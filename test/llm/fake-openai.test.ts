/**
 * The fake model server, driven by the real @openai/agents SDK over real HTTP in both API modes,
 * so other test suites can trust what it streams.
 */
import { Agent, OpenAIProvider, Runner, tool, type RunStreamEvent } from '@openai/agents';
import { performance } from 'node:perf_hooks';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.setHandler(undefined);
});

function runnerFor(useResponses: boolean): Runner {
  // maxRetries 0 on the client: errors must surface on the first answer.
  const openAIClient = new OpenAI({ apiKey: 'test-key', baseURL: fake.baseUrl, maxRetries: 0 });
  return new Runner({ modelProvider: new OpenAIProvider({ openAIClient, useResponses }), tracingDisabled: true });
}

async function collect(stream: AsyncIterable<RunStreamEvent>): Promise<RunStreamEvent[]> {
  const events: RunStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

function textDeltas(events: RunStreamEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'raw_model_stream_event' && e.data.type === 'output_text_delta' ? [e.data.delta] : []));
}

describe.each([
  { mode: 'Responses API', useResponses: true, api: 'responses' },
  { mode: 'Chat Completions', useResponses: false, api: 'chat_completions' },
])('the fake model server over the $mode', ({ useResponses, api }) => {
  it('streams an answer delta by delta and reports the scripted usage', async () => {
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Hel', 'lo ', 'there.'] }], usage: { input_tokens: 42, output_tokens: 7 } });
    const agent = new Agent({ name: 'a', instructions: 'be brief', model: 'fake-model' });
    const result = await runnerFor(useResponses).run(agent, 'Hi', { stream: true });
    const events = await collect(result);
    await result.completed;

    expect(textDeltas(events)).toEqual(['Hel', 'lo ', 'there.']);
    expect(result.finalOutput).toBe('Hello there.');
    expect(result.state.usage.inputTokens).toBe(42);
    expect(result.state.usage.outputTokens).toBe(7);
    const recorded = fake.requests.at(-1);
    expect(recorded?.api).toBe(api);
    expect(recorded?.stream).toBe(true);
    expect(recorded?.completed).toBe(true);
    expect(JSON.stringify(recorded?.body)).toContain('Hi');
  });

  it('answers "Fake answer N." when nothing is scripted, with estimated usage', async () => {
    const agent = new Agent({ name: 'a', model: 'fake-model' });
    const result = await runnerFor(useResponses).run(agent, 'Anything?');
    expect(result.finalOutput).toBe(`Fake answer ${fake.requests.length}.`);
    expect(fake.requests.at(-1)?.stream).toBe(false);
    expect(result.state.usage.inputTokens).toBeGreaterThan(0);
    expect(result.state.usage.outputTokens).toBeGreaterThan(0);
  });

  it('runs a streamed tool call round trip and sends the tool output back', async () => {
    const seen: unknown[] = [];
    const add = tool({
      name: 'add',
      description: 'adds two numbers',
      parameters: z.object({ a: z.number(), b: z.number() }),
      execute: ({ a, b }) => {
        seen.push({ a, b });
        return String(a + b);
      },
    });
    fake.enqueue(
      { steps: [{ type: 'reasoning', text: 'I should add.' }, { type: 'tool_call', name: 'add', arguments: { a: 2, b: 3 }, callId: 'call_add' }] },
      { steps: [{ type: 'text', deltas: ['It is ', '5.'] }] },
    );
    const agent = new Agent({ name: 'a', model: 'fake-model', tools: [add] });
    const before = fake.requests.length;
    const result = await runnerFor(useResponses).run(agent, 'What is 2+3?', { stream: true });
    const events = await collect(result);
    await result.completed;

    expect(seen).toEqual([{ a: 2, b: 3 }]);
    expect(result.finalOutput).toBe('It is 5.');
    const names = events.flatMap((e) => (e.type === 'run_item_stream_event' ? [e.name] : []));
    expect(names).toEqual(expect.arrayContaining(['reasoning_item_created', 'tool_called', 'tool_output', 'message_output_created']));
    const second = fake.requests[before + 1];
    const body = JSON.stringify(second?.body);
    if (api === 'responses') {
      expect(second?.body.input).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'function_call_output', call_id: 'call_add', output: '5' })]));
    } else {
      expect(second?.body.messages).toEqual(expect.arrayContaining([expect.objectContaining({ role: 'tool', tool_call_id: 'call_add', content: '5' })]));
    }
    expect(body).toContain('call_add');
  });

  it('streams reasoning as raw events the client can show', async () => {
    fake.enqueue({ steps: [{ type: 'reasoning', text: 'Thinking hard.' }, { type: 'text', deltas: ['Done.'] }] });
    const agent = new Agent({ name: 'a', model: 'fake-model' });
    const result = await runnerFor(useResponses).run(agent, 'Think', { stream: true });
    const events = await collect(result);
    await result.completed;
    const raw = events.flatMap((e) => (e.type === 'raw_model_stream_event' && e.data.type === 'model' ? [e.data.event as Record<string, unknown>] : []));
    if (api === 'responses') {
      expect(raw).toContainEqual(expect.objectContaining({ type: 'response.reasoning_summary_text.delta', delta: 'Thinking hard.' }));
    } else {
      const deltas = raw.map((c) => (c.choices as Array<{ delta: Record<string, unknown> }>)[0]?.delta);
      expect(deltas).toContainEqual(expect.objectContaining({ reasoning_content: 'Thinking hard.' }));
    }
    const reasoning = result.newItems.find((i) => i.type === 'reasoning_item');
    expect(JSON.stringify(reasoning?.rawItem)).toContain('Thinking hard.');
  });

  it.each([
    { status: 500, message: 'upstream exploded', kind: OpenAI.InternalServerError },
    { status: 429, message: 'slow down', kind: OpenAI.RateLimitError },
  ])('fails the run at once with the SDK error for HTTP $status', async ({ status, message, kind }) => {
    fake.enqueue({ steps: [], error: { status, message, code: status === 429 ? 'rate_limit_exceeded' : 'server_error' } });
    const agent = new Agent({ name: 'a', model: 'fake-model' });
    const before = fake.requests.length;
    const result = await runnerFor(useResponses).run(agent, 'Hi', { stream: true });
    const error = await collect(result).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(kind);
    expect(error).toMatchObject({ status });
    await result.completed.catch(() => undefined);
    expect(fake.requests.length - before).toBe(1);
    expect((result.error as Error | undefined)?.message ?? '').toContain(message);
  });

  it('notices when the client aborts a hanging answer', async () => {
    const controller = new AbortController();
    fake.enqueue({ steps: [{ type: 'text', deltas: ['Partial '] }, { type: 'hang' }] });
    const agent = new Agent({ name: 'a', model: 'fake-model' });
    const arrived = fake.nextRequest();
    const result = await runnerFor(useResponses).run(agent, 'Never ending', { stream: true, signal: controller.signal });
    const request = await arrived;
    const aborted = fake.nextAbort();
    const iterator = result[Symbol.asyncIterator]();
    // Read until the partial text arrives, so the abort happens mid-stream.
    for (let e = await iterator.next(); !e.done; e = await iterator.next()) {
      if (e.value.type === 'raw_model_stream_event' && e.value.data.type === 'output_text_delta') break;
    }
    controller.abort();
    expect(await aborted).toBe(request);
    expect(request.abortedAt).toBeGreaterThan(request.receivedAt);
    expect(request.completed).toBe(false);
    await result.completed.catch(() => undefined);
  });

  it('holds the answer on a wait step until the promise settles', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    fake.enqueue({ steps: [{ type: 'text', deltas: ['one '] }, { type: 'wait', until: gate }, { type: 'text', deltas: ['two'] }] });
    const agent = new Agent({ name: 'a', model: 'fake-model' });
    const arrived = fake.nextRequest();
    const result = await runnerFor(useResponses).run(agent, 'Wait', { stream: true });
    const request = await arrived;
    const iterator = result[Symbol.asyncIterator]();
    for (let e = await iterator.next(); !e.done; e = await iterator.next()) {
      if (e.value.type === 'raw_model_stream_event' && e.value.data.type === 'output_text_delta') break;
    }
    expect(request.completed).toBe(false);
    release();
    for (let e = await iterator.next(); !e.done; e = await iterator.next()) void e;
    await result.completed;
    expect(request.completed).toBe(true);
    expect(result.finalOutput).toContain('two');
  });
});

describe('the fake model server scripting', () => {
  it('uses the handler when the queue is empty and lists a model', async () => {
    fake.setHandler((req) => ({ steps: [{ type: 'text', deltas: [`echo ${req.api}`] }] }));
    const client = new OpenAI({ apiKey: 'k', baseURL: fake.baseUrl, maxRetries: 0 });
    const completion = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(completion.choices[0]?.message.content).toBe('echo chat_completions');
    const models = await client.models.list();
    expect(models.data.map((m) => m.id)).toContain('fake-model');
  });

  it('spaces the deltas out after a pace step', async () => {
    fake.enqueue({ steps: [{ type: 'pace', ms: 20 }, { type: 'text', deltas: ['a', 'b', 'c'] }] });
    const client = new OpenAI({ apiKey: 'k', baseURL: fake.baseUrl, maxRetries: 0 });
    const started = performance.now();
    const stream = await client.responses.create({ model: 'm', input: 'x', stream: true });
    const deltas: string[] = [];
    for await (const event of stream) if (event.type === 'response.output_text.delta') deltas.push(event.delta);
    // The server waits 20 ms after each of the 3 deltas, so the answer cannot end sooner.
    expect(performance.now() - started).toBeGreaterThanOrEqual(58);
    expect(deltas).toEqual(['a', 'b', 'c']);
  });

  it('keeps a generated answer on its schedule: what fell due while its loop was held comes at once', async () => {
    fake.enqueue({ steps: [{ type: 'pace', ms: 20 }, { type: 'generated', count: 8, text: (i) => `w${i} ` }] });
    const res = await fetch(`${fake.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }) });
    const deltasPerRead: number[] = [];
    let held = false;
    for await (const bytes of res.body!) {
      deltasPerRead.push((Buffer.from(bytes).toString('utf8').match(/"content":"w\d+ "/g) ?? []).length);
      if (held) continue;
      held = true;
      // The fake shares this process: its event loop is held for 100 ms, as a loaded process's is.
      const until = performance.now() + 100;
      while (performance.now() < until);
    }
    expect(deltasPerRead.reduce((a, b) => a + b, 0)).toBe(8);
    // Deltas 2 to 5 fell due during the hold; waiting a pace after each write would send them one by one.
    expect(Math.max(...deltasPerRead)).toBeGreaterThanOrEqual(3);
  });

  it('accepts on several listening sockets of one port, one record of requests for all', async () => {
    const shared = await startFakeOpenAI({ acceptors: 3 });
    try {
      const client = new OpenAI({ apiKey: 'k', baseURL: shared.baseUrl, maxRetries: 0 });
      const answers = await Promise.all(Array.from({ length: 12 }, () => client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }] })));
      expect(answers.map((a) => a.choices[0]?.message.content).sort()).toEqual(Array.from({ length: 12 }, (_, i) => `Fake answer ${i + 1}.`).sort());
      expect(shared.requests).toHaveLength(12);
    } finally {
      await shared.close();
    }
  });

  it('reports usage on the final chat completion chunk', async () => {
    fake.enqueue({ steps: [{ type: 'text', deltas: ['a', 'b'] }], usage: { input_tokens: 3, output_tokens: 2 } });
    const client = new OpenAI({ apiKey: 'k', baseURL: fake.baseUrl, maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true } });
    const usages: unknown[] = [];
    for await (const c of stream) if (c.usage) usages.push(c.usage);
    expect(usages).toEqual([expect.objectContaining({ prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 })]);
  });
});
