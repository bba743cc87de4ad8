/** The resume gate alone: what a connection sends of turn events around a `resume`, by seq. */
import { beforeEach, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { REMEMBERED_TURNS, ResumeGate } from '../../src/chat/resume-gate.js';

let sent: string[];
let gate: ResumeGate;

const delta = (turn: string, seq: number): ServerEvent => ({ type: 'assistant_delta', content: `${turn}#${seq}`, session_id: 'chat_g', turn_id: turn, seq });
const live = (turn: string, seq: number) => gate.deliver(delta(turn, seq), turn, seq, JSON.stringify(delta(turn, seq)));
const contents = () => sent.map((d) => (JSON.parse(d) as { content: string }).content);

beforeEach(() => {
  sent = [];
  gate = new ResumeGate((data) => sent.push(data));
});

describe('ResumeGate', () => {
  it('holds every turn until the first frame, then sends what it held in order', () => {
    expect(gate.awaitingFirstFrame).toBe(true);
    live('a', 1);
    live('b', 1);
    expect(sent).toEqual([]);
    gate.release();
    expect(gate.awaitingFirstFrame).toBe(false);
    live('a', 2);
    expect(contents()).toEqual(['a#1', 'b#1', 'a#2']);
  });

  it('a resume sends the missed events first, then the live ones it held, each seq once', () => {
    live('a', 3);
    live('b', 1);
    const hold = gate.begin('a');
    // Other turns are not held back by a resume.
    expect(contents()).toEqual(['b#1']);
    live('a', 4);
    live('b', 2);
    gate.replayed('a', 1, [delta('a', 2), delta('a', 3), delta('a', 4)]);
    live('a', 5);
    gate.finish(hold);
    expect(contents()).toEqual(['b#1', 'b#2', 'a#2', 'a#3', 'a#4', 'a#5']);
    // Already sent: dropped.
    live('a', 5);
    live('a', 4);
    expect(sent).toHaveLength(6);
  });

  it('a replay never sends what the client said it has', () => {
    gate.release();
    const hold = gate.begin('a');
    gate.replayed('a', 2, [delta('a', 2), delta('a', 3)]);
    gate.finish(hold);
    expect(contents()).toEqual(['a#3']);
  });

  it('a later resume keeps its hold when an earlier one finishes', () => {
    gate.release();
    const first = gate.begin('a');
    const second = gate.begin('b');
    gate.finish(first);
    live('b', 1);
    expect(sent).toEqual([]);
    gate.finish(second);
    expect(contents()).toEqual(['b#1']);
  });

  it(`remembers the last seq of the ${REMEMBERED_TURNS} most recent turns`, () => {
    gate.release();
    for (let t = 0; t <= REMEMBERED_TURNS; t++) live(`t${t}`, 1);
    live('t0', 1);
    live(`t${REMEMBERED_TURNS}`, 1);
    expect(contents().slice(-1)).toEqual(['t0#1']);
    expect(sent).toHaveLength(REMEMBERED_TURNS + 2);
  });
});
