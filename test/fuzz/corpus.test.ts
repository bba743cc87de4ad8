/**
 * Inputs that once broke the server, kept in `corpus/*.json` and replayed on every run: each must
 * now pass the fuzzers' checks (no 5xx, the envelope, no other user's data) and give the answer the
 * file expects. Add a fuzzer's counterexample here once it is fixed (see docs/testing.md).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import type { ToolInput, UploadInput } from './file-inputs.js';
import type { RestInput } from './rest-requests.js';
import { callTool, sendRest, sendSocket, sendUpload, toolsOfA } from './send.js';
import type { SocketInput } from './socket-frames.js';
import { expectBUntouched, expectHealthy, startTarget, type Target } from './target.js';

interface CorpusFile {
  what_it_broke: string;
  inputs: Array<RestInput | UploadInput | ToolInput | SocketInput>;
  expect?: { status?: number; code?: string; status_range?: [number, number]; socket_error?: string; socket_errors?: string[]; tool_error?: string };
}

const CORPUS_DIR = new URL('./corpus/', import.meta.url);
const corpus = readdirSync(CORPUS_DIR)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => ({ name, file: JSON.parse(readFileSync(new URL(name, CORPUS_DIR), 'utf8')) as CorpusFile }));

let target: Target;
let tools: Map<string, WorkspaceTool>;

beforeAll(async () => {
  target = await startTarget();
  tools = await toolsOfA(target);
});
afterAll(() => target?.close());

describe('the corpus of inputs that once failed', () => {
  it('has inputs of every kind', () => {
    const kinds = new Set(corpus.flatMap(({ file }) => file.inputs.map((input) => input.kind)));
    expect([...kinds].sort()).toEqual(['rest', 'socket', 'tool', 'upload']);
  });

  it.each(corpus)('$name is answered safely and as expected', async ({ file }) => {
    const wanted = file.expect ?? {};
    for (const input of file.inputs) {
      const label = JSON.stringify(input).slice(0, 200);
      if (input.kind === 'rest' || input.kind === 'upload') {
        const res = input.kind === 'rest' ? await sendRest(target, input) : await sendUpload(target, input);
        const body = res.body.length > 0 ? (JSON.parse(res.body.toString()) as { error?: { code?: string } }) : {};
        if (wanted.status !== undefined) expect(res.status, label).toBe(wanted.status);
        if (wanted.code !== undefined) expect(body.error?.code, label).toBe(wanted.code);
        if (wanted.status_range) expect(res.status, label).toSatisfy((s: number) => s >= wanted.status_range![0] && s <= wanted.status_range![1]);
      } else if (input.kind === 'tool') {
        const result = await callTool(target, tools, input);
        if (wanted.tool_error !== undefined) expect(result, label).toEqual({ success: false, code: wanted.tool_error });
      } else {
        const outcome = await sendSocket(target, input);
        if (wanted.socket_error !== undefined) expect(outcome.errorCodes, label).toContain(wanted.socket_error);
        if (wanted.socket_errors !== undefined) expect(outcome.errorCodes, label).toEqual(wanted.socket_errors);
      }
    }
    await expectHealthy(target);
  });

  it('leaves user B\'s data whole', async () => {
    await expectBUntouched(target);
  });
});
