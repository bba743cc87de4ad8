/**
 * Per-turn server time with a long stored context vs a short one (target: "work per turn is
 * proportional to what the turn added, not to the history's length").
 *
 * A real Pulp server (fresh PGlite, or PostgreSQL when TEST_DATABASE_URL is set) talks to the
 * scripted fake OpenAI server. Two sessions get 10 and 1 000 `llm_context` rows inserted directly
 * (user / tool call / tool output / answer, repeating); then the same one-line turn is timed on
 * each, alternating, from the `message` frame sent to `assistant_end`, and from the frame sent to
 * the model request arriving at the fake (the server's own pre-call work). Medians are printed.
 *
 *   node --import tsx bench/context-scaling.ts [repetitions=9]
 *
 * `npm run bench` runs it too (`contextScaling`) and puts the ratio in its table.
 */
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { AgentInputItem } from '@openai/agents';
import { countItems } from '../src/context/tokens.js';
import { TestClient } from '../test/chat/harness.js';
import { apiClient } from '../test/support/api.js';
import { startFakeOpenAI } from '../test/support/fake-openai.js';
import { startTestServer } from '../test/support/server.js';
import { median } from './stats.js';

const MODEL = 'gpt-4o-mini';
const WARMUP = 2;
const SIZES = [10, 1_000] as const;
const TARGET_RATIO = 1.5;

/** `n` context items shaped like a real conversation with tools. */
function history(n: number): AgentInputItem[] {
  const items: AgentInputItem[] = [];
  for (let i = 0; items.length < n; i++) {
    const callId = `call_hist_${i}`;
    const group: AgentInputItem[] = [
      { type: 'message', role: 'user', content: `Question ${i}: what does file ${i}.csv hold about the Lisbon budget?` },
      { type: 'function_call', callId, name: 'read_file', arguments: JSON.stringify({ path: `input/${i}.csv`, head: 5 }), status: 'completed' },
      { type: 'function_call_result', callId, name: 'read_file', status: 'completed', output: { type: 'text', text: `{"success":true,"content":"day,cost\\n${i},${i * 3}"}` } },
      { type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `File ${i}.csv lists day ${i} at ${i * 3} euros.` }] },
    ];
    items.push(...group.slice(0, n - items.length));
  }
  return items;
}

export interface ContextScaling {
  small: ContextTimes;
  large: ContextTimes;
  /** Turn time on the long context ÷ on the short one. */
  ratio: number;
  driver: string;
}

interface ContextTimes {
  size: number;
  /** Message → assistant_end (median). */
  turnMs: number;
  /** Message → the model request arriving at the fake (median). */
  preCallMs: number;
}

/** Times `reps` turns (after a warm-up) on each context length, alternating. */
export async function contextScaling(reps: number): Promise<ContextScaling> {
  const fake = await startFakeOpenAI();
  // Usage is given, so the fake (in this process) does not re-serialise each request to estimate
  // it: a provider's own work is not Pulp's cost, and it would grow with the context.
  fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['Noted, ', 'thanks.'] }], usage: { input_tokens: 1_000, output_tokens: 4 } }));
  const server = await startTestServer({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    OPENAI_API_MODE: 'responses',
    DEFAULT_MODEL: MODEL,
    MODELS: MODEL,
  });
  const api = apiClient(server.baseUrl);
  const db = server.database.db;
  const clients: TestClient[] = [];
  try {
    const sessions = [];
    for (const size of SIZES) {
      const created = await api('POST', '/sessions', { title: `bench ${size}` });
      const publicId = created.body.session_id as string;
      const { rows } = await db.query<{ id: string }>('SELECT id FROM sessions WHERE session_id = $1', [publicId]);
      const uuid = rows[0]!.id;
      const items = history(size);
      await db.query(
        `INSERT INTO llm_context (session_id, seq, item)
         SELECT $1, t.ord, t.value FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS t(value, ord)`,
        [uuid, JSON.stringify(items)],
      );
      await db.query('UPDATE sessions SET total_tokens = $2 WHERE id = $1', [uuid, countItems(MODEL, items)]);
      const client = await TestClient.open(`${server.wsUrl}/ws/chat/${publicId}`);
      clients.push(client);
      sessions.push({ size, client, turn: [] as number[], preCall: [] as number[] });
    }

    for (let rep = 0; rep < WARMUP + reps; rep++) {
      for (const s of sessions) {
        const from = s.client.events.length;
        const request = fake.nextRequest();
        const sent = performance.now();
        s.client.message('One more line for the plan, please.');
        const events = await s.client.turn(from);
        const ended = performance.now();
        const reason = (events.at(-1) as { finish_reason?: string } | undefined)?.finish_reason;
        if (reason !== 'stop') throw new Error(`turn on ${s.size} items ended with ${reason}`);
        if (events.some((e) => (e as { tool_name?: string }).tool_name === 'summarize_conversation')) {
          throw new Error('a summarization ran: the bench must stay under the threshold');
        }
        const received = (await request).receivedAt;
        if (rep < WARMUP) continue;
        s.turn.push(ended - sent);
        s.preCall.push(received - sent);
      }
    }

    const [small, large] = sessions.map((s) => ({ size: s.size, turnMs: median(s.turn), preCallMs: median(s.preCall) }));
    return { small: small!, large: large!, ratio: large!.turnMs / small!.turnMs, driver: db.driver };
  } finally {
    for (const c of clients) c.ws.terminate();
    await server.close();
    await fake.close();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const reps = Number(process.argv[2] ?? 9);
  const r = await contextScaling(reps);
  console.log(`context scaling (${MODEL}, ${r.driver}, median of ${reps} turns each after ${WARMUP} warm-up)`);
  for (const t of [r.small, r.large]) {
    console.log(`  ${String(t.size).padStart(5)} items: turn ${t.turnMs.toFixed(1)} ms (message → assistant_end), pre-call ${t.preCallMs.toFixed(1)} ms (message → model request)`);
  }
  console.log(`  ratio 1000/10: turn ${r.ratio.toFixed(2)}×, pre-call ${(r.large.preCallMs / r.small.preCallMs).toFixed(2)}× — target ≤ ${TARGET_RATIO}× → ${r.ratio <= TARGET_RATIO ? 'met' : 'NOT met'}`);
  process.exit(0);
}
