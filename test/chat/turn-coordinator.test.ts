import { describe, expect, it } from 'vitest';
import { CancellationToken, NewMessageInterrupt, ShutdownInterrupt, UserInterrupt } from '../../src/chat/cancellation.js';
import { LocalTurnCoordinator } from '../../src/chat/turn-coordinator.js';

/** A turn that runs until cancelled, then takes one more step to "save its partial". */
function cancellableTurn(log: string[], name: string, onStart: () => void = () => undefined) {
  return async (token: CancellationToken) => {
    log.push(`${name} start`);
    onStart();
    await new Promise<void>((resolve) => token.onCancel(() => resolve()));
    await Promise.resolve();
    log.push(`${name} saved (${token.reason?.name})`);
  };
}

describe('one turn per session', () => {
  it('a new turn interrupts the running one and starts only after it has ended', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    const first = coordinator.start('s1', cancellableTurn(log, 'first'));
    expect(coordinator.isRunning('s1')).toBe(true);
    const second = coordinator.start('s1', async (token) => {
      log.push(`second start (cancelled: ${token.cancelled})`);
    });
    await Promise.all([first, second]);
    expect(log).toEqual(['first start', 'first saved (NewMessageInterrupt)', 'second start (cancelled: false)']);
    await coordinator.whenIdle('s1', 1_000);
    expect(coordinator.isRunning('s1')).toBe(false);
    expect(coordinator.activeSessions).toBe(0);
  });

  it('turns of different sessions run side by side', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    let started!: () => void;
    const bothStarted = new Promise<void>((resolve) => {
      let n = 0;
      started = () => {
        n += 1;
        if (n === 2) resolve();
      };
    });
    const a = coordinator.start('a', cancellableTurn(log, 'a', started));
    const b = coordinator.start('b', cancellableTurn(log, 'b', started));
    await bothStarted;
    expect(log).toEqual(['a start', 'b start']);
    expect(coordinator.activeSessions).toBe(2);
    expect(coordinator.interrupt('a', new UserInterrupt())).toBe(true);
    await a;
    expect(log).toContain('a saved (UserInterrupt)');
    expect(coordinator.isRunning('b')).toBe(true);
    expect(coordinator.interrupt('missing', new UserInterrupt())).toBe(false);
    coordinator.interrupt('b', new UserInterrupt());
    await b;
  });

  it('shutdown interrupts every turn, waits for them, and later turns start already cancelled', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    void coordinator.start('a', cancellableTurn(log, 'a'));
    void coordinator.start('b', cancellableTurn(log, 'b'));
    await coordinator.shutdown(5_000);
    expect(log.filter((l) => l.includes('saved'))).toEqual(['a saved (ShutdownInterrupt)', 'b saved (ShutdownInterrupt)']);
    let reason: unknown;
    await coordinator.start('c', async (token) => {
      reason = token.reason;
    });
    expect(reason).toBeInstanceOf(ShutdownInterrupt);
  });

  it('a waiting turn replaced by a newer message still runs, already interrupted, so its words are saved', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    const first = coordinator.start('s', cancellableTurn(log, 'first'));
    const reasons: unknown[] = [];
    const second = coordinator.start('s', async (token) => void reasons.push(token.reason));
    const third = coordinator.start('s', async (token) => void reasons.push(token.reason));
    await Promise.all([first, second, third]);
    expect(reasons[0]).toBeInstanceOf(NewMessageInterrupt);
    expect(reasons[1]).toBeUndefined();
  });

  it('a turn that throws does not wedge the session', async () => {
    const coordinator = new LocalTurnCoordinator();
    await coordinator.start('s', async () => {
      throw new Error('boom');
    });
    let ran = false;
    await coordinator.start('s', async () => {
      ran = true;
    });
    expect(ran).toBe(true);
  });
});
