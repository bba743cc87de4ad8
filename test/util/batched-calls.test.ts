/** Calls made together, or while a statement is in flight, share the next one; a lone call goes at the loop's next turn. */
import { describe, expect, it, vi } from 'vitest';
import { BatchedCalls, MAX_BATCH_WEIGHT } from '../../src/util/batched-calls.js';

/** A `run` the test answers by hand, recording the batches it was given. */
function heldRuns() {
  const batches: number[][] = [];
  const answers: Array<(outs: string[] | Error) => void> = [];
  const run = (inputs: number[]) =>
    new Promise<string[]>((resolve, reject) => {
      batches.push(inputs);
      answers.push((outs) => (outs instanceof Error ? reject(outs) : resolve(outs)));
    });
  return { batches, answers, run };
}

describe('BatchedCalls', () => {
  it('sends the calls of one turn of the event loop in one batch', async () => {
    const { batches, answers, run } = heldRuns();
    const calls = new BatchedCalls(run);
    const made = [calls.call(1), calls.call(2), calls.call(3)];
    expect(batches).toEqual([]);
    await vi.waitFor(() => expect(batches).toEqual([[1, 2, 3]]));
    answers[0]?.(['a', 'b', 'c']);
    expect(await Promise.all(made)).toEqual(['a', 'b', 'c']);
  });

  it('sends a lone call on its own, and the calls made meanwhile together in the next batch, each answered with its own row', async () => {
    const { batches, answers, run } = heldRuns();
    const calls = new BatchedCalls(run);
    const first = calls.call(1);
    await vi.waitFor(() => expect(batches).toEqual([[1]]));
    const later = [calls.call(2), calls.call(3), calls.call(4)];
    expect(batches).toHaveLength(1);
    answers[0]?.(['one']);
    expect(await first).toBe('one');
    await vi.waitFor(() => expect(batches).toEqual([[1], [2, 3, 4]]));
    answers[1]?.(['two', 'three', 'four']);
    expect(await Promise.all(later)).toEqual(['two', 'three', 'four']);
  });

  it('fails every call of a failed batch and goes on with the next; a batch answered with too few rows fails too', async () => {
    const { batches, answers, run } = heldRuns();
    const calls = new BatchedCalls(run);
    const first = calls.call(1);
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    const second = [calls.call(2), calls.call(3)];
    answers[0]?.(new Error('connection lost'));
    await expect(first).rejects.toThrow('connection lost');
    await vi.waitFor(() => expect(batches).toEqual([[1], [2, 3]]));
    answers[1]?.(['only one']);
    for (const call of second) await expect(call).rejects.toThrow('a batched statement answered 1 rows for 2 calls');
    const third = calls.call(4);
    await vi.waitFor(() => expect(batches).toHaveLength(3));
    answers[2]?.(['four']);
    expect(await third).toBe('four');
  });

  it('cuts a heavy burst into statements of at most MAX_BATCH_WEIGHT, in order, and sends a call heavier than that alone', async () => {
    const { batches, answers, run } = heldRuns();
    // Each input is its own weight: three fit one statement, a fourth does not, one over the budget goes alone.
    const third = Math.floor(MAX_BATCH_WEIGHT / 3);
    const inputs = [third, third, third, third, MAX_BATCH_WEIGHT * 2, 1];
    const calls = new BatchedCalls(run, { weigh: (n: number) => n });
    const made = inputs.map((n) => calls.call(n));
    for (let i = 0; i < 4; i++) {
      await vi.waitFor(() => expect(batches).toHaveLength(i + 1));
      answers[i]?.((batches[i] ?? []).map(String));
    }
    expect(batches).toEqual([[third, third, third], [third], [MAX_BATCH_WEIGHT * 2], [1]]);
    expect(await Promise.all(made)).toEqual(inputs.map(String));
  });
});
