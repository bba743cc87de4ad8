import { afterEach, describe, expect, it, vi } from 'vitest';
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
    const second = coordinator.start('s1', (token) => {
      log.push(`second start (cancelled: ${token.cancelled})`);
      return Promise.resolve();
    });
    await Promise.all([first, second]);
    expect(log).toEqual(['first start', 'first saved (NewMessageInterrupt)', 'second start (cancelled: false)']);
    await coordinator.whenIdle('s1', 1_000);
    expect(coordinator.isRunning('s1')).toBe(false);
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
    expect(['a', 'b'].map((s) => coordinator.isRunning(s))).toEqual([true, true]);
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
    await coordinator.start('c', (token) => {
      reason = token.reason;
      return Promise.resolve();
    });
    expect(reason).toBeInstanceOf(ShutdownInterrupt);
  });

  it('a waiting turn replaced by a newer message still runs, already interrupted, so its words are saved', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    const first = coordinator.start('s', cancellableTurn(log, 'first'));
    const reasons: unknown[] = [];
    const second = coordinator.start('s', (token) => Promise.resolve(reasons.push(token.reason)));
    const third = coordinator.start('s', (token) => Promise.resolve(reasons.push(token.reason)));
    await Promise.all([first, second, third]);
    expect(reasons[0]).toBeInstanceOf(NewMessageInterrupt);
    expect(reasons[1]).toBeUndefined();
  });

  it('a turn that throws does not wedge the session', async () => {
    const coordinator = new LocalTurnCoordinator();
    await coordinator.start('s', () => Promise.reject(new Error('boom')));
    let ran = false;
    await coordinator.start('s', () => {
      ran = true;
      return Promise.resolve();
    });
    expect(ran).toBe(true);
  });
});

describe('bounded waits', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** A turn that ignores cancellation until `finish` is called. */
  function stubbornTurn(log: string[], name: string): { turn: (token: CancellationToken) => Promise<void>; finish: () => void } {
    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    return {
      finish,
      turn: async () => {
        log.push(`${name} start`);
        await done;
        log.push(`${name} end`);
      },
    };
  }

  it('a turn that ignores its stop delays the next one by the previous-turn wait only', async () => {
    vi.useFakeTimers();
    const coordinator = new LocalTurnCoordinator(1_000);
    const log: string[] = [];
    const stuck = stubbornTurn(log, 'stuck');
    void coordinator.start('s1', stuck.turn);
    const next = coordinator.start('s1', () => {
      log.push('next start');
      return Promise.resolve();
    });
    await vi.advanceTimersByTimeAsync(999);
    expect(log).toEqual(['stuck start']);
    await vi.advanceTimersByTimeAsync(1);
    await next;
    expect(log).toEqual(['stuck start', 'next start']);
    stuck.finish();
  });

  it('whenIdle gives up at its deadline while a turn is still running', async () => {
    vi.useFakeTimers();
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    const stuck = stubbornTurn(log, 'stuck');
    void coordinator.start('s1', stuck.turn);
    let idle = false;
    void coordinator.whenIdle('s1', 500).then(() => (idle = true));
    await vi.advanceTimersByTimeAsync(499);
    expect(idle).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(idle).toBe(true);
    expect(coordinator.isRunning('s1')).toBe(true);
    stuck.finish();
    await coordinator.whenIdle('s1', 500);
    expect(coordinator.isRunning('s1')).toBe(false);
  });
});

describe('the session stays running while any of its turns does', () => {
  it('after the interrupted turn ends, the newer one keeps the session running until it ends', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    let finishSecond!: () => void;
    const secondMayEnd = new Promise<void>((resolve) => (finishSecond = resolve));
    let secondStarted!: () => void;
    const secondRunning = new Promise<void>((resolve) => (secondStarted = resolve));
    const first = coordinator.start('s1', cancellableTurn(log, 'first'));
    const second = coordinator.start('s1', async () => {
      secondStarted();
      await secondMayEnd;
    });
    await first;
    await secondRunning;
    await Promise.resolve();
    expect(coordinator.isRunning('s1')).toBe(true);
    finishSecond();
    await second;
    await coordinator.whenIdle('s1', 1_000);
    expect(coordinator.isRunning('s1')).toBe(false);
  });

  it('interrupt says whether it stopped anything: a second stop of the same turn does not', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    const turn = coordinator.start('s1', cancellableTurn(log, 'only'));
    expect(coordinator.interrupt('s1', new UserInterrupt())).toBe(true);
    expect(coordinator.interrupt('s1', new UserInterrupt())).toBe(false);
    await turn;
    expect(coordinator.interrupt('s1', new UserInterrupt())).toBe(false);
  });

  it('an interrupt aimed at one turn by its id stops only that turn, not the next one of the session', async () => {
    const coordinator = new LocalTurnCoordinator();
    const log: string[] = [];
    let secondStarted!: () => void;
    const running = new Promise<void>((resolve) => (secondStarted = resolve));
    const first = coordinator.start('s1', cancellableTurn(log, 'first'), 'turn_1');
    const second = coordinator.start('s1', cancellableTurn(log, 'second', secondStarted), 'turn_2');
    await first;
    await running;
    // A late request for the turn that has ended finds nothing; the running one goes on.
    expect(coordinator.interruptTurn('s1', 'turn_1', new NewMessageInterrupt())).toBe(false);
    expect(log).toEqual(['first start', 'first saved (NewMessageInterrupt)', 'second start']);
    expect(coordinator.interruptTurn('s1', 'turn_2', new UserInterrupt())).toBe(true);
    await second;
    expect(log.at(-1)).toBe('second saved (UserInterrupt)');
    expect(coordinator.interruptTurn('gone', 'turn_2', new UserInterrupt())).toBe(false);
  });
});
