import { tool } from '@openai/agents';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ContextStore } from '../../src/chat/context-store.js';
import { listMessages } from '../../src/chat/message-store.js';
import { field, startChatHarness, type ChatHarness } from './harness.js';

/** A tool that only ends when its turn is cancelled. */
const slow = tool({
  name: 'slow',
  description: 'Takes forever unless cancelled.',
  parameters: z.object({ seconds: z.number() }),
  execute: async (_args, _ctx, details) =>
    new Promise<string>((_resolve, reject) => {
      const signal = details?.signal;
      if (signal?.aborted) reject(new Error('cancelled'));
      else signal?.addEventListener('abort', () => reject(new Error('cancelled')), { once: true });
    }),
});

describe('a tool call cut by a server shutdown', () => {
  let h: ChatHarness;
  beforeAll(async () => {
    h = await startChatHarness({ tools: [slow] });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('says the server shut down, to the user, in the stored row and in the model context — not that the user interrupted', async () => {
    const session = await h.createSession();
    const client = await h.connect(session.session_id);
    h.fake.enqueue({ steps: [{ type: 'text', deltas: ['Working on it.'] }, { type: 'tool_call', name: 'slow', arguments: { seconds: 60 }, callId: 'call_slow' }] });
    client.message('do the slow thing');
    await client.waitForType('function_executing');

    await h.chat.shutdown(10_000);
    await client.closed;
    const events = client.events;
    const completed = events.find((e) => e.type === 'function_completed');
    const said = 'Interrupted by a server shutdown before the tool returned.';
    expect(completed).toMatchObject({ tool_call_id: 'call_slow', tool_success: false, interrupted: true, tool_result: said });
    expect(field(events.findLast((e) => e.type === 'assistant_end'), 'finish_reason')).toBe('interrupted');

    const messages = await listMessages(h.database.db, session.id);
    expect(messages.find((m) => m.role === 'tool_call')).toMatchObject({ tool_result: said, status: 'interrupted' });
    const context = await new ContextStore(h.database.db, session.id).getItems();
    expect(JSON.stringify(context)).toContain(said);
    expect(JSON.stringify(context)).not.toContain('by the user');
  });
});
