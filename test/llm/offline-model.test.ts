/**
 * The offline model driven through the real @openai/agents Runner: what a new user sees with no
 * configuration at all.
 */
import { performance } from 'node:perf_hooks';
import { Agent, Runner, tool, type RunStreamEvent } from '@openai/agents';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { OfflineModelProvider, countTextTokens } from '../../src/llm/offline-model.js';
import { planOfflineReply } from '../../src/llm/offline-reply.js';

const fast = new Runner({ modelProvider: new OfflineModelProvider({ wordDelayMs: 0 }), tracingDisabled: true });

function deltasOf(events: RunStreamEvent[]): string[] {
  return events.flatMap((e) => (e.type === 'raw_model_stream_event' && e.data.type === 'output_text_delta' ? [e.data.delta] : []));
}

async function collect(stream: AsyncIterable<RunStreamEvent>): Promise<RunStreamEvent[]> {
  const events: RunStreamEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

function echoTool(calls: unknown[]) {
  return tool({
    name: 'lookup',
    description: 'looks something up',
    parameters: z.object({ q: z.string() }),
    execute: ({ q }) => {
      calls.push(q);
      return `found 3 results for ${q}`;
    },
  });
}

describe('the offline model', () => {
  it('streams an honest answer word by word that says how to configure a real model', async () => {
    const agent = new Agent({ name: 'pulp', instructions: 'You are Pulp.', model: 'offline' });
    const result = await fast.run(agent, 'What is the capital of France?', { stream: true });
    const events = await collect(result);
    await result.completed;

    const deltas = deltasOf(events);
    expect(deltas.length).toBeGreaterThan(20);
    expect(deltas.join('')).toBe(result.finalOutput);
    expect(result.finalOutput).toContain('offline model');
    expect(result.finalOutput).toMatch(/OPENAI_API_KEY.*OPENAI_BASE_URL.*AZURE_OPENAI_ENDPOINT/s);
    expect(result.finalOutput).toContain('What is the capital of France?');
  });

  it('reports token usage like a real model', async () => {
    const agent = new Agent({ name: 'pulp', instructions: 'Be helpful.', model: 'offline' });
    const result = await fast.run(agent, 'Count my tokens please', { stream: true });
    await collect(result);
    await result.completed;
    const usage = result.state.usage;
    expect(usage.requests).toBe(1);
    expect(usage.inputTokens).toBeGreaterThanOrEqual(countTextTokens('Be helpful. Count my tokens please') - 2);
    expect(usage.outputTokens).toBe(countTextTokens(String(result.finalOutput)));
    expect(usage.totalTokens).toBe(usage.inputTokens + usage.outputTokens);
  });

  it('calls the named tool on /tool and then reports its result', async () => {
    const calls: unknown[] = [];
    const agent = new Agent({ name: 'pulp', model: 'offline', tools: [echoTool(calls)] });
    const result = await fast.run(agent, '/tool lookup {"q": "pulp fiction"}', { stream: true });
    const events = await collect(result);
    await result.completed;

    expect(calls).toEqual(['pulp fiction']);
    const names = events.flatMap((e) => (e.type === 'run_item_stream_event' ? [e.name] : []));
    expect(names).toEqual(expect.arrayContaining(['tool_called', 'tool_output', 'message_output_created']));
    expect(result.finalOutput).toContain('`lookup` returned');
    expect(result.finalOutput).toContain('found 3 results for pulp fiction');
    expect(result.finalOutput).toContain('offline model');
    const argDeltas = events.filter((e) => e.type === 'raw_model_stream_event' && e.data.type === 'model' && (e.data.event as { type?: string }).type === 'response.function_call_arguments.delta');
    expect(argDeltas.length).toBeGreaterThan(1);
    expect(result.state.usage.requests).toBe(2);
  });

  it('runs /python code through execute_python_code', async () => {
    const codes: string[] = [];
    const python = tool({
      name: 'execute_python_code',
      description: 'runs python',
      parameters: z.object({ code: z.string() }),
      execute: ({ code }) => {
        codes.push(code);
        return JSON.stringify({ success: true, stdout: '4\n' });
      },
    });
    const agent = new Agent({ name: 'pulp', model: 'offline', tools: [python] });
    const result = await fast.run(agent, '/python print(2 + 2)\nprint("done")');
    expect(codes).toEqual(['print(2 + 2)\nprint("done")']);
    expect(result.finalOutput).toContain('"stdout":"4\\n"');
  });

  it('streams exactly N words on /long N', async () => {
    const agent = new Agent({ name: 'pulp', model: 'offline' });
    const result = await fast.run(agent, '/long 120', { stream: true });
    const events = await collect(result);
    await result.completed;
    expect(String(result.finalOutput).trim().split(/\s+/)).toHaveLength(120);
    expect(deltasOf(events)).toHaveLength(120);
  });

  it('stops a long answer within 500 ms of an abort', async () => {
    const paced = new Runner({ modelProvider: new OfflineModelProvider(), tracingDisabled: true });
    const agent = new Agent({ name: 'pulp', model: 'offline' });
    const controller = new AbortController();
    const result = await paced.run(agent, '/long 5000', { stream: true, signal: controller.signal });
    let seen = 0;
    let abortedAt = 0;
    for await (const e of result) {
      if (e.type === 'raw_model_stream_event' && e.data.type === 'output_text_delta') {
        seen += 1;
        if (seen === 3) {
          abortedAt = performance.now();
          controller.abort();
        }
      }
    }
    await result.completed.catch(() => undefined);
    const stoppedAfter = performance.now() - abortedAt;
    expect(seen).toBeGreaterThanOrEqual(3);
    expect(seen).toBeLessThan(10);
    expect(stoppedAfter).toBeLessThan(500);
  });

  it('answers a summarization request briefly', async () => {
    const agent = new Agent({ name: 'summarizer', instructions: 'Summarize the conversation below in dense prose.', model: 'offline' });
    const result = await fast.run(agent, 'User: I want a chart of sales.\nAssistant: Here is the chart.');
    expect(result.finalOutput).toContain('Summary by the offline model');
    expect(result.finalOutput).toContain('chart of sales');
    expect(String(result.finalOutput).length).toBeLessThan(400);
  });

  it('makes a 3 to 5 word title when asked for one', async () => {
    const agent = new Agent({ name: 'titler', instructions: 'Write a 3-5 word title for this conversation.', model: 'offline' });
    const result = await fast.run(agent, 'Please plot quarterly revenue for 2024 by region');
    const words = String(result.finalOutput).split(' ');
    expect(words.length).toBeGreaterThanOrEqual(3);
    expect(words.length).toBeLessThanOrEqual(5);
    expect(result.finalOutput).toBe('Please plot quarterly revenue');
  });

  it('refuses to start when the request is already aborted', async () => {
    const agent = new Agent({ name: 'pulp', model: 'offline' });
    const result = await fast.run(agent, 'hi', { stream: true, signal: AbortSignal.abort() });
    const events = await collect(result).catch(() => []);
    await result.completed.catch(() => undefined);
    expect(deltasOf(events)).toEqual([]);
  });
});

describe('the offline model commands', () => {
  const ask = (text: string, toolNames: string[] = []) => planOfflineReply({ input: [{ role: 'user', content: text }], toolNames });

  it('explains an unknown tool and lists the offered ones', () => {
    expect(ask('/tool nope {}', ['read_file'])).toEqual({ kind: 'text', text: expect.stringContaining('no tool named `nope`') });
    expect(ask('/tool nope {}', ['read_file'])).toEqual({ kind: 'text', text: expect.stringContaining('`read_file`') });
  });

  it('asks for a JSON object when the tool arguments are not one', () => {
    expect(ask('/tool read_file [1,2]', ['read_file'])).toEqual({ kind: 'text', text: expect.stringContaining('must be a JSON object') });
    expect(ask('/tool read_file', ['read_file'])).toEqual({ kind: 'tool_call', name: 'read_file', arguments: '{}' });
  });

  it('says when the code interpreter is not available', () => {
    expect(ask('/python print(1)')).toEqual({ kind: 'text', text: expect.stringContaining('code interpreter is not available') });
    expect(ask('/python\n```python\nprint(1)\n```', ['execute_python_code'])).toEqual({ kind: 'tool_call', name: 'execute_python_code', arguments: '{"code":"print(1)"}' });
  });

  it('keeps /long within bounds', () => {
    const words = (text: string) => (ask(text) as { text: string }).text.split(' ').length;
    expect(words('/long')).toBe(200);
    expect(words('/long 0')).toBe(200);
    expect(words('/long 999999')).toBe(20_000);
  });

  it('answers normally in a chat turn whose instructions mention summaries', () => {
    const plan = planOfflineReply({ systemInstructions: 'Older turns appear as a summary.', input: 'hello', toolNames: ['read_file'] });
    expect(plan).toEqual({ kind: 'text', text: expect.stringContaining("I am Pulp's offline model") });
  });
});
