/**
 * Pulp's own adapters against the Agents SDK's, run by the real Runner over the same scripted
 * answers of the fake model server: the same request bodies go out, and the same stream events,
 * items, usage and final output come back. Ids and timestamps the fake derives from its request
 * count or the clock are normalised; nothing else is.
 */
import { Agent, Runner, tool, type AgentInputItem, type RunStreamEvent } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { loadConfig } from '../../src/config/config.js';
import { createModelProvider } from '../../src/llm/provider.js';
import { tapText } from '../../src/llm/text-tap.js';
import { TextGate } from '../../src/chat/text-gate.js';
import { startFakeOpenAI, type FakeOpenAI, type FakeResponse } from '../support/fake-openai.js';

let fake: FakeOpenAI;
beforeAll(async () => {
  fake = await startFakeOpenAI();
});
afterAll(async () => {
  await fake.close();
});

/** Replaces what differs only because the fake counted requests or read the clock. */
function normalise(value: unknown): unknown {
  const text = JSON.stringify(value)
    .replace(/chatcmpl-fake-\d+/g, 'chatcmpl-fake-N')
    .replace(/resp_fake_\d+/g, 'resp_fake_N')
    .replace(/\b(msg|fc|rs|call)_\d+_(\d+)/g, '$1_N_$2')
    .replace(/"(created|created_at)":\d+/g, '"$1":0');
  return JSON.parse(text) as unknown;
}

/**
 * A raw provider event that carries nothing but a piece of the answer's text: a Chat Completions
 * chunk whose one choice has only `content` (and `role`) in its delta, or a Responses text delta.
 * The native adapter does not repeat those as raw events: their `output_text_delta` says it all.
 */
function onlyText(event: unknown): boolean {
  const e = event as { type?: string; usage?: unknown; choices?: Array<{ finish_reason?: unknown; delta?: Record<string, unknown> }> };
  if (e.type === 'response.output_text.delta') return true;
  const choices = e.choices ?? [];
  const delta = choices[0]?.delta;
  if (choices.length !== 1 || e.usage || choices[0]?.finish_reason || !delta?.content) return false;
  return Object.entries(delta).every(([key, value]) => key === 'content' || key === 'role' || value === null || value === undefined);
}

/**
 * The events as Pulp's stream mapper sees them: the SDK's copy of each chunk on text deltas is left
 * out, and so are raw events that only carry text (undefined).
 */
function eventView(e: RunStreamEvent): unknown {
  if (e.type === 'raw_model_stream_event') {
    if (e.data.type === 'model' && onlyText(e.data.event)) return undefined;
    const { providerData: _ignored, ...data } = e.data as unknown as Record<string, unknown>;
    return { type: e.type, data: e.data.type === 'output_text_delta' ? data : e.data };
  }
  if (e.type === 'run_item_stream_event') return { type: e.type, name: e.name, raw: e.item.rawItem };
  return { type: e.type, agent: e.agent.name };
}

type TextDeltaView = { type: 'raw_model_stream_event'; data: { type: 'output_text_delta'; delta: string; itemId?: string } };

const isTextDelta = (view: unknown): view is TextDeltaView => (view as TextDeltaView).data?.type === 'output_text_delta';

/**
 * Appends a view, joining a text delta to a text delta of the same item just before it. The native
 * adapter joins the text chunks it reads in one network chunk, so where deltas split depends on
 * the socket, not on the adapter; the text and its place among the other events must match.
 */
function pushJoined(views: unknown[], view: unknown): void {
  const last = views.at(-1);
  if (isTextDelta(view) && isTextDelta(last) && last.data.itemId === view.data.itemId) {
    views[views.length - 1] = { ...last, data: { ...last.data, delta: last.data.delta + view.data.delta } };
  } else {
    views.push(view);
  }
}

const weather = tool({ name: 'weather', description: 'The weather in a city', parameters: z.object({ city: z.string() }), execute: ({ city }) => `sunny in ${city}` });

interface Outcome {
  bodies: unknown[];
  events: unknown[];
  items: unknown[];
  usage: unknown;
  finalOutput: unknown;
  /** Text events that went through the Runner. */
  runnerTexts: number;
}

/**
 * `native-tapped`: the native adapter sends its text past the Runner, as a turn has it, and a
 * `TextGate` puts it back among the Runner's events.
 */
async function runWith(adapter: 'native' | 'native-tapped' | 'sdk', mode: string, scripts: FakeResponse[], input: string | AgentInputItem[], stream: boolean): Promise<Outcome> {
  const config = loadConfig({ OPENAI_BASE_URL: fake.baseUrl, OPENAI_API_KEY: 'sk-parity-1234', OPENAI_API_MODE: mode, LLM_ADAPTER: adapter === 'sdk' ? 'sdk' : 'native' }).llm;
  const events: unknown[] = [];
  const gate = new TextGate((delta) => pushJoined(events, { type: 'raw_model_stream_event', data: { type: 'output_text_delta', delta } }));
  const provider = createModelProvider(config);
  const runner = new Runner({ modelProvider: adapter === 'native-tapped' ? tapText(provider, gate) : provider, tracingDisabled: true });
  const agent = new Agent({ name: 'Pulp', instructions: 'Be brief.', model: 'gpt-4o-mini', tools: [weather], modelSettings: { reasoning: { effort: 'low' } } });
  const before = fake.requests.length;
  fake.enqueue(...scripts);
  let result;
  let error: unknown;
  let runnerTexts = 0;
  try {
    if (stream) {
      result = await runner.run(agent, input, { stream: true });
      for await (const e of result) {
        if (e.type === 'raw_model_stream_event' && e.data.type === 'output_text_delta') runnerTexts += 1;
        if (e.type === 'raw_model_stream_event') gate.reached(e.data);
        const view = eventView(e);
        if (view !== undefined) pushJoined(events, view);
        if (e.type === 'raw_model_stream_event') gate.handled(e.data);
      }
      await result.completed;
    } else {
      result = await runner.run(agent, input);
    }
  } catch (err) {
    // A refusal ends the run with the SDK's ModelRefusalError; both adapters must get there.
    error = { name: (err as Error).name, message: (err as Error).message };
  }
  return normalise({
    bodies: fake.requests.slice(before).map((r) => r.body),
    events,
    items: result?.newItems.map((i) => i.rawItem),
    usage: result?.state.usage,
    finalOutput: error ?? result?.finalOutput,
    runnerTexts,
  }) as Outcome;
}

const history: AgentInputItem[] = [
  { role: 'user', content: [{ type: 'input_text', text: 'Earlier question' }] },
  { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'Earlier answer' }] },
  { type: 'function_call', callId: 'call_old', name: 'weather', arguments: '{"city":"Rome"}', status: 'completed' },
  { type: 'function_call_result', callId: 'call_old', name: 'weather', status: 'completed', output: { type: 'text', text: 'rainy' } },
  { role: 'user', content: 'And now?' },
];

const scenarios: Array<{ name: string; scripts: FakeResponse[]; input: string | AgentInputItem[] }> = [
  { name: 'text with cached and reasoning tokens', scripts: [{ steps: [{ type: 'text', deltas: ['Hel', 'lo.'] }], usage: { input_tokens: 20, output_tokens: 9, cached_tokens: 12, reasoning_tokens: 5 } }], input: 'Hi' },
  {
    name: 'reasoning, a tool call and the answer',
    scripts: [
      { steps: [{ type: 'reasoning', text: 'Check the weather.' }, { type: 'tool_call', name: 'weather', arguments: { city: 'Oslo' }, callId: 'call_w' }] },
      { steps: [{ type: 'text', deltas: ['Sunny ', 'in Oslo.'] }] },
    ],
    input: 'Weather in Oslo?',
  },
  { name: 'a refusal', scripts: [{ steps: [{ type: 'refusal', text: 'I cannot help with that.' }] }], input: 'Something bad' },
  { name: 'a stored history with a tool result', scripts: [{ steps: [{ type: 'text', deltas: ['Still rainy.'] }] }], input: history },
];

describe.each(['chat_completions', 'responses'])('the native adapter matches the SDK adapter in %s mode', (mode) => {
  it.each(scenarios)('streamed: $name', async ({ scripts, input }) => {
    const sdk = await runWith('sdk', mode, scripts, input, true);
    const native = await runWith('native', mode, scripts, input, true);
    expect(native.bodies).toEqual(sdk.bodies);
    expect(native.events).toEqual(sdk.events);
    expect(native.items).toEqual(sdk.items);
    expect(native.usage).toEqual(sdk.usage);
    expect(native.finalOutput).toEqual(sdk.finalOutput);
  });

  // The Runner builds the answer from the end of the stream: without the text events it makes the same items.
  it.each(scenarios)('streamed, its text past the Runner: $name', async ({ scripts, input }) => {
    const sdk = await runWith('sdk', mode, scripts, input, true);
    const tapped = await runWith('native-tapped', mode, scripts, input, true);
    const withoutItemIds = (events: unknown[]): unknown[] => events.map((e) => (isTextDelta(e) ? { ...e, data: { type: e.data.type, delta: e.data.delta } } : e));
    expect(tapped.bodies).toEqual(sdk.bodies);
    expect(withoutItemIds(tapped.events)).toEqual(withoutItemIds(sdk.events));
    expect(tapped.items).toEqual(sdk.items);
    expect(tapped.usage).toEqual(sdk.usage);
    expect(tapped.finalOutput).toEqual(sdk.finalOutput);
    expect(tapped.runnerTexts).toBe(0);
  });

  it.each(scenarios)('not streamed: $name', async ({ scripts, input }) => {
    const sdk = await runWith('sdk', mode, scripts, input, false);
    const native = await runWith('native', mode, scripts, input, false);
    expect(native.bodies).toEqual(sdk.bodies);
    expect(native.items).toEqual(sdk.items);
    expect(native.usage).toEqual(sdk.usage);
    expect(native.finalOutput).toEqual(sdk.finalOutput);
  });
});
