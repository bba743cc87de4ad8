/**
 * The fake model (`test/support/fake-openai.ts` answering bench prompts) in a process of its own,
 * for the concurrency scenarios. Prints `{"baseUrl": …}` once it listens; runs until stdin closes.
 */
import { startFakeOpenAI } from '../test/support/fake-openai.js';
import { parentMessages, toParent } from './processes.js';
import { benchScript } from './scenarios.js';

/**
 * Listening sockets of the fake: with one, a thousand turns started at once waited up to 4 s for
 * the fake to accept their connections while it streamed the earlier ones (one accept per turn of
 * its event loop), and that wait was counted as Pulp's time to the first delta.
 */
const ACCEPTORS = 64;

const fake = await startFakeOpenAI({ acceptors: ACCEPTORS });
fake.setHandler((req) => {
  // The fake records every request; the bench sends tens of thousands, so keep none.
  fake.requests.length = 0;
  return benchScript(req);
});
toParent({ baseUrl: fake.baseUrl });
const next = parentMessages();
for (;;) await next();
