import { describe, expect, it } from 'vitest';
import { makeSummaryItem } from '../../src/context/summary-plan.js';
import {
  type CompleteFn,
  renderItemsForSummary,
  SUMMARY_INSTRUCTIONS,
  SummarizationFailedError,
  summarizeItems,
  truncateMiddle,
} from '../../src/context/summarizer.js';
import { assistant, call, exchange, result, user } from './items.js';

/** A scripted model: each call takes the next answer; an Error is thrown instead of answered. */
function scripted(answers: Array<string | Error>) {
  const calls: Array<{ instructions: string; input: string; signal: AbortSignal }> = [];
  const complete: CompleteFn = (instructions, input, signal) => {
    calls.push({ instructions, input, signal });
    const next = answers.shift();
    if (next === undefined) return Promise.reject(new Error('no more scripted answers'));
    if (next instanceof Error) return Promise.reject(next);
    return Promise.resolve(next);
  };
  return { complete, calls };
}

/** A sleep that records the waits and takes no time. */
function recordedSleep() {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => Promise.resolve(void waits.push(ms)) };
}

const older = [...exchange(1), ...exchange(2)];

describe('summarizer', () => {
  it('asks for dense prose about goals, facts, tools, state and open errors, and returns the trimmed answer', async () => {
    const { complete, calls } = scripted(['  The user wants X.\n']);
    const summary = await summarizeItems(older, complete, recordedSleep());
    expect(summary).toBe('The user wants X.');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.instructions).toBe(SUMMARY_INSTRUCTIONS);
    for (const topic of ['goals', 'decisions', 'tools', 'current state', 'errors']) expect(SUMMARY_INSTRUCTIONS).toContain(topic);
  });

  it('renders user text, tool calls with arguments, tool results and answers as readable text', () => {
    const text = renderItemsForSummary([user('find the bug'), call('c1', 'search_files', { pattern: '*.ts' }), result('c1', '["a.ts"]', 'search_files'), assistant('found it')]);
    expect(text).toContain('User: find the bug');
    expect(text).toContain('Tool call search_files({"pattern":"*.ts"})');
    expect(text).toContain('Tool result of search_files: ["a.ts"]');
    expect(text).toContain('Assistant: found it');
  });

  it('renders reasoning, hosted tools, shell runs, refusals and other items readably', () => {
    const text = renderItemsForSummary([
      { role: 'system', content: 'Be brief.' },
      { type: 'reasoning', content: [{ type: 'input_text', text: 'Check the file first.' }] },
      { type: 'hosted_tool_call', name: 'web_search', arguments: '{"q":"pulp"}', output: 'three hits' },
      { type: 'shell_call', callId: 's', action: { commands: ['ls'] } },
      { type: 'shell_call_output', callId: 's', output: [{ stdout: 'a.txt', stderr: '', outcome: { type: 'exit', exitCode: 0 } }] },
      { role: 'assistant', status: 'completed', content: [{ type: 'refusal', refusal: 'cannot do that' }] },
      { role: 'user', content: [{ type: 'input_image', image: 'data:image/png;base64,AAAA' }, { type: 'input_text', text: 'what is this?' }] },
      { type: 'compaction', encrypted_content: 'zzz' },
      { type: 'program', callId: 'g', code: 'print(1)', fingerprint: 'f' },
    ]);
    expect(text).toContain('System: Be brief.');
    expect(text).toContain('Assistant reasoning: Check the file first.');
    expect(text).toContain('Tool call web_search({"q":"pulp"})\nResult: three hits');
    expect(text).toContain('Shell call: ls');
    expect(text).toContain('Shell output: a.txt');
    expect(text).toContain('Assistant: (refused) cannot do that');
    expect(text).toContain('User: [input_image]\nwhat is this?');
    expect(text).toContain('Compacted earlier context');
    expect(text).toContain('program: ');
    expect(text).toContain('print(1)');
  });

  it('renders transcripts, file parts, missing outputs, odd items and empty values precisely', () => {
    const text = renderItemsForSummary([
      { role: 'user', content: [{ type: 'audio', audio: 'x', transcript: 'spoken words' }, { type: 'input_file', file: 'f' }, null, 7] },
      { type: 'function_call', callId: 'c', name: 'list_files', arguments: '{}' },
      { type: 'shell_call_output', callId: 's', output: [{ stdout: 'out', stderr: 'err' }] },
      { type: 'shell_call_output', callId: 't', output: 'plain output' },
      { type: 'mystery_item', payload: 1 },
      { role: 'user', content: { note: 'an object' } },
    ] as unknown as Parameters<typeof renderItemsForSummary>[0]);
    expect(text.split('\n\n')).toEqual([
      'User: spoken words\n[input_file]\n7',
      'Tool call list_files({})',
      'Shell output: outerr',
      'Shell output: plain output',
      'mystery_item: {"type":"mystery_item","payload":1}',
      'User: {"note":"an object"}',
    ]);
  });

  it('keeps the first 60 % and the last 40 % of a text cut in the middle, and nothing at exactly the limit', () => {
    expect(truncateMiddle('0123456789', 10)).toBe('0123456789');
    expect(truncateMiddle('0123456789ABCDEFGHIJ', 10)).toBe('012345\n… [10 characters omitted] …\nGHIJ');
  });

  it('tells the model what a summary must cover, one rule a line', () => {
    expect(SUMMARY_INSTRUCTIONS.split('\n')).toEqual([
      'You summarize the earlier part of a conversation between a user and an AI assistant that can call tools.',
      "The summary replaces those messages in the assistant's memory, so the conversation can go on without them.",
      'Write dense, factual prose (no preamble, no headings, no bullet lists of trivia) covering:',
      expect.stringMatching(/^- /),
      expect.stringMatching(/^- /),
      '- the tools that were used, with what arguments, and what they found;',
      expect.stringMatching(/^- /),
      expect.stringMatching(/^- /),
      'If the input starts with an earlier summary, fold it in: keep what still matters and drop what was superseded.',
      'Write in the language the user wrote in. Reply with the summary only.',
    ]);
  });

  it('an interrupt during the wait before a retry ends it at once, without another attempt', async () => {
    const controller = new AbortController();
    const reason = new Error('user interrupt');
    let attempts = 0;
    const complete: CompleteFn = () => {
      attempts++;
      queueMicrotask(() => controller.abort(reason));
      return Promise.reject(new Error('provider 500'));
    };
    // The real timer: a minute-long backoff that only the abort can cut short.
    await expect(summarizeItems(older, complete, { signal: controller.signal, backoffMs: 60_000 })).rejects.toBe(reason);
    expect(attempts).toBe(1);
  });

  it('folds an earlier summary into the input', () => {
    const text = renderItemsForSummary([makeSummaryItem('The user builds a parser.'), ...exchange(3)]);
    expect(text.startsWith('Earlier summary:\nThe user builds a parser.')).toBe(true);
  });

  it('cuts huge tool outputs in the middle and says how much was left out', () => {
    const huge = `HEAD${'x'.repeat(50_000)}TAIL`;
    const text = renderItemsForSummary([user('go'), call('c'), result('c', huge)]);
    expect(text.length).toBeLessThan(6_000);
    expect(text).toContain('HEAD');
    expect(text).toContain('TAIL');
    expect(text).toMatch(/\[\d+ characters omitted\]/);
    expect(truncateMiddle('short', 10)).toBe('short');
    expect(renderItemsForSummary(Array.from({ length: 50 }, (_, i) => user(`${i}`.repeat(1_000))), 5_000).length).toBeLessThan(5_100);
  });

  it('retries a failed and an empty answer with backoff, and succeeds on the third attempt', async () => {
    const { complete, calls } = scripted([new Error('provider 500'), '   ', 'Third time lucky.']);
    const { waits, sleep } = recordedSleep();
    await expect(summarizeItems(older, complete, { sleep })).resolves.toBe('Third time lucky.');
    expect(calls).toHaveLength(3);
    expect(waits).toEqual([1_000, 2_000]);
  });

  it('gives up with a typed error after two retries', async () => {
    const { complete, calls } = scripted([new Error('one'), '', new Error('three'), 'never asked']);
    const { sleep } = recordedSleep();
    const failure = summarizeItems(older, complete, { sleep });
    await expect(failure).rejects.toBeInstanceOf(SummarizationFailedError);
    await expect(failure).rejects.toMatchObject({ name: 'SummarizationFailedError', attempts: 3, message: 'Summarization failed after 3 attempts' });
    await expect(failure).rejects.toHaveProperty('cause.message', 'three');
    const empty = summarizeItems(older, scripted(['', ' ', '\n']).complete, { sleep });
    await expect(empty).rejects.toHaveProperty('cause.message', 'the model answered with an empty summary');
    expect(calls).toHaveLength(3);
  });

  it('stops at once without retrying when the caller aborts', async () => {
    const controller = new AbortController();
    const reason = new Error('user interrupt');
    let attempts = 0;
    const complete: CompleteFn = (_i, _input, signal) => {
      attempts++;
      return new Promise((_resolve, reject) => {
        signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
        controller.abort(reason);
      });
    };
    await expect(summarizeItems(older, complete, { signal: controller.signal, sleep: recordedSleep().sleep })).rejects.toBe(reason);
    expect(attempts).toBe(1);
  });

  it('treats an attempt that outlives its time limit as failed and aborts its request', async () => {
    const seen: AbortSignal[] = [];
    let attempt = 0;
    const complete: CompleteFn = (_i, _input, signal) => {
      seen.push(signal);
      attempt++;
      if (attempt === 3) return Promise.resolve('finally');
      return new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true }));
    };
    const summary = await summarizeItems(older, complete, { sleep: recordedSleep().sleep, attemptTimeoutMs: 1 });
    expect(summary).toBe('finally');
    expect(seen[0]?.aborted).toBe(true);
    expect(seen[1]?.aborted).toBe(true);
  });
});
