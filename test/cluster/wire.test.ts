/** The NOTIFY payload format between servers: packed under the limit, read back in order. */
import { describe, expect, it } from 'vitest';
import { controlLine, eventLine, isFrom, MAX_PAYLOAD_BYTES, packPayloads, parsePayload, refLine } from '../../src/cluster/wire.js';

const uuid = '0f0e0d0c-0b0a-4909-8807-060504030201';

describe('cluster payloads', () => {
  it('round-trips events, references and control messages in order', () => {
    const data = JSON.stringify({ type: 'assistant_delta', content: 'line\nbreak "quoted" ünïcode', seq: 1 });
    const lines = [eventLine(uuid, data), refLine(uuid, 'turn_1', 7), controlLine({ t: 'interrupt', s: uuid, turn: 'turn_1', reason: 'user' })];
    const { payloads, tooBig } = packPayloads('server-a', 0, lines);
    expect(tooBig).toEqual([]);
    expect(payloads).toHaveLength(1);
    expect(parsePayload(payloads[0]!)).toEqual([
      { kind: 'event', sessionUuid: uuid, data },
      { kind: 'ref', sessionUuid: uuid, turnId: 'turn_1', seq: 7 },
      { kind: 'control', control: { t: 'interrupt', s: uuid, turn: 'turn_1', reason: 'user' } },
    ]);
  });

  it('splits into payloads under the NOTIFY limit, numbered so none are merged, and marks lines too big', () => {
    const line = eventLine(uuid, JSON.stringify({ content: 'é'.repeat(1_000) }));
    const huge = eventLine(uuid, JSON.stringify({ content: 'x'.repeat(MAX_PAYLOAD_BYTES) }));
    const { payloads, tooBig } = packPayloads('server-a', 5, [line, line, line, huge, line, line]);
    expect(tooBig).toEqual([3]);
    expect(payloads.length).toBeGreaterThan(1);
    for (const p of payloads) expect(Buffer.byteLength(p)).toBeLessThan(8_000);
    expect(payloads.map((p) => p.split('\n')[0])).toEqual(payloads.map((_, i) => `P1 server-a ${5 + i}`));
    expect(payloads.flatMap((p) => parsePayload(p))).toHaveLength(5);
  });

  it('knows its own payloads and ignores what it cannot read', () => {
    const [p] = packPayloads('server-a', 0, [controlLine({ t: 'ended', s: uuid, turn: 't' })]).payloads;
    expect(isFrom(p!, 'server-a')).toBe(true);
    expect(isFrom(p!, 'server-a2')).toBe(false);
    expect(parsePayload('garbage')).toEqual([]);
    expect(parsePayload('P1 x 0\nc {not json\nz unknown kind')).toEqual([]);
  });
});
