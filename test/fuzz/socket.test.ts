/**
 * Fuzzing the chat socket: valid, mutated, non-JSON and binary frames on user A's session, user
 * B's and nobody's; messages that make the fake model call tools with hostile arguments or answer
 * with hostile text. No error event with a server-side code, no unexpected close (never 1011),
 * B's data never sent to A nor to the model in A's turns, and the server healthy after every batch.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendSocket } from './send.js';
import { fuzzBanner, fuzzParameters, fuzzTimeout } from './settings.js';
import { socketInput } from './socket-frames.js';
import { expectBUntouched, expectHealthy, Figures, startTarget, type Target } from './target.js';

let target: Target;
const figures = new Figures();
/** Model requests made while setting up (B's own turn holds the marker); every later one is A's. */
let setupRequests: number;

beforeAll(async () => {
  target = await startTarget();
  setupRequests = target.fake.requests.length;
  console.log(fuzzBanner('socket'));
});
afterAll(async () => {
  console.log(`fuzz socket: ${figures.summary()}`);
  await target?.close();
});

describe('fuzzing the chat socket', () => {
  it(
    'random and mutated frames never get a server error, an unexpected close or another user\'s data',
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(socketInput(), { minLength: 1, maxLength: 3 }), async (batch) => {
          for (const input of batch) {
            const outcome = await sendSocket(target, input);
            figures.count('socket connections');
            figures.count('socket frames', undefined, input.frames.length);
            figures.count('chat turns', undefined, outcome.turns);
            figures.count('tool calls in turns', undefined, outcome.toolCalls);
          }
          await expectHealthy(target);
        }),
        fuzzParameters(50),
      );
      await expectBUntouched(target);
      // A's turns never carried B's words to the model either.
      const sentForA = target.fake.requests.slice(setupRequests);
      expect(sentForA.length).toBeGreaterThan(0);
      expect(sentForA.filter((request) => JSON.stringify(request.body).includes(target.marker))).toEqual([]);
    },
    fuzzTimeout(60_000),
  );
});
