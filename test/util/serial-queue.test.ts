import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/util/serial-queue.js';

describe('SerialQueue', () => {
  it('runs tasks one at a time in the order they were queued', async () => {
    const queue = new SerialQueue();
    const log: string[] = [];
    let release: () => void = () => undefined;
    const first = queue.run(async () => {
      log.push('first start');
      await new Promise<void>((r) => (release = r));
      log.push('first end');
      return 1;
    });
    const second = queue.run(() => {
      log.push('second');
      return 2;
    });
    expect(queue.pending).toBe(2);
    await Promise.resolve();
    release();
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(log).toEqual(['first start', 'first end', 'second']);
    expect(queue.pending).toBe(0);
  });

  it('a failing task rejects its own promise and the next task still runs', async () => {
    const queue = new SerialQueue();
    const failed = queue.run(() => Promise.reject(new Error('boom')));
    const next = queue.run(() => 'ran');
    await expect(failed).rejects.toThrow('boom');
    await expect(next).resolves.toBe('ran');
  });

  it('idle waits for what was queued before it, and never rejects', async () => {
    const queue = new SerialQueue();
    const done: number[] = [];
    void queue.run(() => Promise.resolve(done.push(1)));
    void queue.run(() => Promise.reject(new Error('ignored'))).catch(() => undefined);
    await queue.idle();
    expect(done).toEqual([1]);
    expect(queue.pending).toBe(0);
  });
});
