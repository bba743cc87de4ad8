/**
 * Chat socket inputs: valid frames (messages, some asking the fake model for a tool call with
 * hostile arguments or for a hostile answer; interrupts, pings, resumes), mutated frames, text that is not JSON and binary
 * frames, sent on user A's session, user B's, or one that does not exist.
 */
import fc from 'fast-check';
import { bodyText, hostileJson, hostileString, validOrMutated } from './arbitraries.js';
import { toolCall } from './file-inputs.js';

export type Frame = { text: string } | { binary: string };

export interface SocketInput {
  kind: 'socket';
  /** `{A_SESSION}`, `{B_SESSION}` or an id of nobody's. */
  session: string;
  frames: Frame[];
  /** Send each frame once the previous one's turn ended (tool calls then run to their end). */
  paced: boolean;
}

const content = fc.oneof(
  { weight: 2, arbitrary: hostileString() },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 60 }) },
  // The fake model makes this tool call, so tool arguments travel the whole turn.
  { weight: 4, arbitrary: toolCall().map((call) => `TOOL ${call.name} ${JSON.stringify(call.arguments) ?? 'null'}`) },
  // The fake model answers with this text: hostile model output.
  { weight: 2, arbitrary: hostileString().map((text) => `ECHO ${JSON.stringify(text)}`) },
);

const messageFrame = fc.record(
  {
    type: fc.constant('message'),
    messages: fc.array(fc.record({ content }), { minLength: 1, maxLength: 3 }),
    model: fc.option(fc.oneof(fc.constantFrom('gpt-4o-mini', 'gpt-4o-mini', 'o1-pro-EXPENSIVE'), hostileString()), { freq: 4, nil: undefined }),
    reasoning_effort: fc.option(fc.constantFrom('none', 'low', 'medium', 'high', 'extreme'), { freq: 4, nil: undefined }),
  },
  { requiredKeys: ['type', 'messages'] },
).map((frame) => JSON.parse(JSON.stringify(frame)) as Record<string, unknown>);

const validFrame = fc.oneof(
  { weight: 6, arbitrary: messageFrame },
  { weight: 1, arbitrary: fc.constant({ type: 'interrupt' }) },
  { weight: 1, arbitrary: fc.constant({ type: 'ping' }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('resume'), turn_id: fc.oneof(hostileString(), fc.constant('turn_0')), after_seq: fc.oneof(fc.nat(), fc.integer({ min: -5, max: 5 })) }) },
);

const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 6, arbitrary: validFrame.map((value) => ({ text: JSON.stringify(value) })) },
  { weight: 3, arbitrary: bodyText(validOrMutated(validFrame)).map((text) => ({ text })) },
  { weight: 1, arbitrary: hostileJson().map((value) => ({ text: JSON.stringify(value) ?? 'null' })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ binary: Buffer.from(bytes).toString('base64') })) },
);

export function socketInput(): fc.Arbitrary<SocketInput> {
  return fc.record({
    kind: fc.constant('socket' as const),
    session: fc.constantFrom('{A_SESSION}', '{A_SESSION}', '{A_SESSION}', '{A_SESSION}', '{B_SESSION}', 'chat_000000000000', '..%2f', '%00'),
    frames: fc.array(frame, { minLength: 1, maxLength: 6 }),
    paced: fc.boolean(),
  });
}
