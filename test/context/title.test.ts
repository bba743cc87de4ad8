import { describe, expect, it } from 'vitest';
import type { CompleteFn } from '../../src/context/summarizer.js';
import { cleanTitle, DEFAULT_TITLE, fallbackTitle, generateTitle, TITLE_INSTRUCTIONS, TITLE_MAX_CHARS } from '../../src/context/title.js';

const answering =
  (answer: string): CompleteFn =>
  () =>
    Promise.resolve(answer);
const failing: CompleteFn = () => Promise.reject(new Error('provider down'));
const live = () => new AbortController().signal;

describe('session titles', () => {
  it('asks the model for a 3–5 word title of the first exchange', async () => {
    let seen: { instructions: string; input: string } | undefined;
    const complete: CompleteFn = (instructions, input) => {
      seen = { instructions, input };
      return Promise.resolve('Quarterly Sales Chart');
    };
    await expect(generateTitle('Plot my sales by quarter', 'Here is the chart.', complete, live())).resolves.toBe('Quarterly Sales Chart');
    expect(seen?.instructions).toBe(TITLE_INSTRUCTIONS);
    expect(TITLE_INSTRUCTIONS).toMatch(/3 to 5 words/);
    expect(seen?.input).toContain('Plot my sales by quarter');
    expect(seen?.input).toContain('Here is the chart.');
  });

  it.each([
    ['"Debugging a Flaky Test."', 'Debugging a Flaky Test'],
    ['Title: CSV Cleanup Plan', 'CSV Cleanup Plan'],
    ["**'Travel Budget for Rome'**!", 'Travel Budget for Rome'],
    ['\n\n  Parsing Logs with Python?\nSecond line ignored', 'Parsing Logs with Python'],
    ['“Résumé Feedback Session”…', 'Résumé Feedback Session'],
    ['# Markdown Heading Title', 'Markdown Heading Title'],
    ['Many   spaces\tinside', 'Many spaces inside'],
    ['""\nReal Title On Line Two', 'Real Title On Line Two'],
    ['Subtitle: Work Plan', 'Subtitle: Work Plan'],
    ['Title : Budget Review', 'Budget Review'],
    ['Title: "Quarterly Plan"', 'Quarterly Plan'],
    ['Great Question?!', 'Great Question'],
    ['"""""Five Quotes"""""', 'Five Quotes'],
  ])('cleans the answer %j into %j', (answer, title) => {
    expect(cleanTitle(answer)).toBe(title);
  });

  it('cuts an over-long title at the last word boundary in its last 40 %, else at 200 characters', () => {
    const exactly200 = `${'a'.repeat(150)} ${'b'.repeat(49)}`;
    expect(cleanTitle(exactly200)).toBe(exactly200);
    expect(cleanTitle('abc defghij '.repeat(20))).toBe(`${'abc defghij '.repeat(16)}abc`);
    expect(cleanTitle(`${'a'.repeat(130)} ${'b'.repeat(300)}`)).toBe('a'.repeat(130));
    const early = `${'a'.repeat(100)} ${'b'.repeat(300)}`;
    expect(cleanTitle(early)).toBe(early.slice(0, TITLE_MAX_CHARS));
  });

  it('sends only the start of a long exchange, and lets the caller cancel the request', async () => {
    let input = '';
    let signal: AbortSignal | undefined;
    const controller = new AbortController();
    const complete: CompleteFn = (_instructions, text, s) => {
      input = text;
      signal = s;
      return Promise.resolve('Long Essay');
    };
    await generateTitle('u'.repeat(5000), 'a'.repeat(5000), complete, controller.signal);
    expect(input).toBe(`User: ${'u'.repeat(2000)}\n\nAssistant: ${'a'.repeat(2000)}`);
    expect(signal?.aborted).toBe(false);
    controller.abort(new Error('gone'));
    expect(signal?.aborted).toBe(true);
  });

  it('tells the model the rules of a title', () => {
    expect(TITLE_INSTRUCTIONS.split('\n')).toEqual([
      'Write a short title for the conversation below: 3 to 5 words that name its topic.',
      'Use the language of the user. No quotes, no trailing punctuation, no emoji, no prefix like "Title:".',
      'Reply with the title only.',
    ]);
  });

  it('caps a long title at 200 characters', async () => {
    const title = await generateTitle('q', 'a', answering('word '.repeat(100)), live());
    expect(title.length).toBeLessThanOrEqual(TITLE_MAX_CHARS);
    expect(title.length).toBeGreaterThan(100);
    expect(cleanTitle('x'.repeat(500))).toHaveLength(TITLE_MAX_CHARS);
  });

  it('falls back to the first words of the user text when the model fails', async () => {
    await expect(generateTitle('  How do I   merge two pandas data frames on a key?', 'Use merge.', failing, live())).resolves.toBe(
      'How do I merge two',
    );
  });

  it('falls back when the model answers nothing usable', async () => {
    await expect(generateTitle('Explain closures in JavaScript please', '...', answering(' "" \n . '), live())).resolves.toBe(
      'Explain closures in JavaScript please',
    );
    expect(fallbackTitle('   ')).toBe('New chat');
    expect(DEFAULT_TITLE).toBe('New chat');
    expect(fallbackTitle('one\ttwo\nthree\tfour\tfive\tsix seven')).toBe('one two three four five');
    // A model answer that is not text at all also falls back.
    const nothing: CompleteFn = () => Promise.resolve(undefined as unknown as string);
    await expect(generateTitle('Tabs versus spaces', 'Both.', nothing, live())).resolves.toBe('Tabs versus spaces');
  });

  it('gives up without a title when the caller aborts', async () => {
    const controller = new AbortController();
    const complete: CompleteFn = () => {
      controller.abort(new Error('session deleted'));
      return Promise.reject(new Error('aborted request'));
    };
    await expect(generateTitle('q', 'a', complete, controller.signal)).rejects.toThrow('session deleted');
  });
});
