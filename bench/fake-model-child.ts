/**
 * The fake model (`test/support/fake-openai.ts` answering bench prompts) in a process of its own,
 * for the concurrency scenarios. Prints `{"baseUrl": …}` once it listens; runs until stdin closes.
 */
import { startFakeOpenAI } from '../test/support/fake-openai.js';
import { parentMessages, toParent } from './processes.js';
import { benchScript } from './scenarios.js';

const fake = await startFakeOpenAI();
fake.setHandler((req) => {
  // The fake records every request; the bench sends tens of thousands, so keep none.
  fake.requests.length = 0;
  return benchScript(req);
});
toParent({ baseUrl: fake.baseUrl });
const next = parentMessages();
for (;;) await next();
