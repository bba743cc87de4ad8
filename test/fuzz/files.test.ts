/**
 * Fuzzing the files surface: hostile paths on every file route, random and broken multipart
 * uploads, and the workspace tools called with hostile paths. No 5xx, every error the envelope
 * (or a tool error with a registered code), never user B's file, and nothing written outside user
 * A's session folder.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';
import { filePathRequest, toolCall, uploadRequest } from './file-inputs.js';
import { callTool, sendRest, sendUpload, toolsOfA } from './send.js';
import { fuzzBanner, fuzzParameters, fuzzTimeout } from './settings.js';
import { expectBUntouched, expectHealthy, Figures, startTarget, type Target } from './target.js';

let target: Target;
let tools: Map<string, WorkspaceTool>;
const figures = new Figures();
/** Everything under DATA_DIR outside A's session folder, before the fuzzing. */
let outsideA: string[];

const listOutsideA = () =>
  readdirSync(target.server.dataDir, { recursive: true, encoding: 'utf8' })
    .filter((entry) => !entry.startsWith(path.join('sessions', target.a.sessionId)))
    .sort();

beforeAll(async () => {
  target = await startTarget();
  tools = await toolsOfA(target);
  outsideA = listOutsideA();
  console.log(fuzzBanner('files'));
});
afterAll(async () => {
  console.log(`fuzz files: ${figures.summary()}`);
  await target?.close();
});

describe('fuzzing the file routes, uploads and workspace tools', () => {
  it(
    'hostile paths on every file route get a 4xx envelope or the user\'s own files',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(filePathRequest(), { minLength: 1, maxLength: 8 }), async (batch) => {
          for (const input of batch) figures.count('file route paths', (await sendRest(target, input)).status);
          await expectHealthy(target);
        }),
        fuzzParameters(60),
      );
      expect(listOutsideA()).toEqual(outsideA);
      await expectBUntouched(target);
    },
    fuzzTimeout(60_000),
  );

  it(
    'random and broken multipart uploads are stored whole or refused with a 4xx envelope',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(uploadRequest(), { minLength: 1, maxLength: 5 }), async (batch) => {
          for (const input of batch) figures.count('multipart uploads', (await sendUpload(target, input)).status);
          await expectHealthy(target);
        }),
        fuzzParameters(60),
      );
      expect(listOutsideA()).toEqual(outsideA);
      await expectBUntouched(target);
    },
    fuzzTimeout(60_000),
  );

  it(
    'workspace tools given hostile paths return a tool result and never reach outside the session',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(toolCall(), { minLength: 1, maxLength: 8 }), async (batch) => {
          for (const input of batch) {
            await callTool(target, tools, input);
            figures.count('tool calls');
          }
          await expectHealthy(target);
        }),
        fuzzParameters(60),
      );
      expect(listOutsideA()).toEqual(outsideA);
      await expectBUntouched(target);
    },
    fuzzTimeout(60_000),
  );
});
