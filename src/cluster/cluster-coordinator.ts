/**
 * One turn per session across servers (the same semantics as on one server). Inside this server the
 * LocalTurnCoordinator still orders a session's turns; around each turn this adds the session's
 * PostgreSQL lock. A turn that finds the lock taken asks the holder to stop (a control message
 * through the bus) and waits for its `ended`, then runs. Interrupts for a turn running elsewhere
 * travel the same way. A sweeper ends the turns of servers that died (their locks are free).
 */
import type { Logger } from 'pino';
import { type CancelReason, type CancellationToken, NewMessageInterrupt, TurnRefused, UserInterrupt } from '../chat/cancellation.js';
import { LocalTurnCoordinator, PREVIOUS_TURN_WAIT_MS, type TurnCoordinator } from '../chat/turn-coordinator.js';
import type { Database } from '../db/database.js';
import { sharedUpdate } from '../db/shared-statement.js';
import { AppError } from '../errors/app-error.js';
import type { ClusterEventBus } from './cluster-bus.js';
import { endOrphanTurn, openTurnsElsewhere, orphanCandidates, pruneTurnLog } from './orphan-turns.js';
import type { SessionLocks, StartAttempt } from './session-locks.js';
import type { Control } from './wire.js';

/** How often a server looks for turns of dead servers (SIGKILL → session usable well within 10 s). */
export const SWEEP_INTERVAL_MS = 2_000;
/** A waiting turn retries the lock at least this often, in case an `ended` message was missed. */
export const LOCK_RETRY_MS = 250;
/** A waiting turn repeats its interrupt request this often. */
const REPEAT_INTERRUPT_MS = 2_000;
/** The turn log is kept this long after a turn ends (the `resume` grace period). */
export const RESUME_GRACE_S = 120;
/** …and never longer than this, even for a turn that never ended. */
export const MAX_LOG_AGE_S = 6 * 3600;
const PRUNE_EVERY_SWEEPS = 15;

// The ends of the turns ending meanwhile on this server, recorded in one statement.
const turnEnds = sharedUpdate<string>('UPDATE chat_turns SET ended_at = now() WHERE turn_id = ANY($1::text[])', (ids) => [ids]);

export interface ClusterCoordinatorOptions {
  serverId: string;
  db: Database;
  bus: ClusterEventBus;
  locks: SessionLocks;
  logger: Logger;
}

export class ClusterTurnCoordinator implements TurnCoordinator {
  readonly #local: LocalTurnCoordinator;
  /** Sessions whose turn runs on another server → that turn's id. */
  #remote = new Map<string, string>();
  #endedWaiters = new Map<string, Set<() => void>>();
  /** Sessions whose lock this server holds for a running turn → that turn's id. */
  #held = new Map<string, string>();
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  /** Sessions whose dead turn the sweeper is ending now (holding their lock) → the end. */
  #sweepingSessions = new Map<string, Promise<void>>();
  #sweeps = 0;
  #closing = false;
  readonly #log: Logger;

  constructor(private readonly options: ClusterCoordinatorOptions) {
    this.#local = new LocalTurnCoordinator(PREVIOUS_TURN_WAIT_MS);
    this.#log = options.logger.child({ module: 'cluster' });
  }

  /** Learns which turns run elsewhere and starts the sweeper. */
  async open(): Promise<void> {
    for (const row of await openTurnsElsewhere(this.options.db, this.options.serverId)) this.#remote.set(row.session_id, row.turn_id);
    this.#sweepTimer = setInterval(() => {
      this.#sweeping ??= this.sweep().finally(() => {
        this.#sweeping = undefined;
      });
    }, SWEEP_INTERVAL_MS).unref();
  }

  isRunning(sessionUuid: string): boolean {
    return this.#local.isRunning(sessionUuid) || this.#remote.has(sessionUuid);
  }

  start(sessionUuid: string, turn: (token: CancellationToken) => Promise<unknown>, turnId = `turn_${Date.now()}`): Promise<void> {
    return this.#local.start(
      sessionUuid,
      async (token) => {
        const lock = await this.#acquire(sessionUuid, turnId);
        try {
          // Still run: the user's words are saved and the client hears why the turn did not run.
          if (lock.refused) token.cancel(new TurnRefused(lock.refused));
          else this.options.bus.control({ t: 'started', s: sessionUuid, turn: turnId });
          await turn(token);
        } finally {
          await this.#release(sessionUuid, turnId, lock.held);
        }
      },
      turnId,
    );
  }

  interrupt(sessionUuid: string, reason: CancelReason): boolean {
    if (this.#local.interrupt(sessionUuid, reason)) return true;
    const remote = this.#remote.get(sessionUuid);
    if (remote === undefined) return false;
    this.options.bus.control({ t: 'interrupt', s: sessionUuid, turn: remote, reason: reason instanceof NewMessageInterrupt ? 'new_message' : 'user' });
    return true;
  }

  async whenIdle(sessionUuid: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    await this.#local.whenIdle(sessionUuid, timeoutMs);
    while (this.#remote.has(sessionUuid) && Date.now() < deadline) await this.#waitEnded(sessionUuid, deadline - Date.now());
  }

  async shutdown(timeoutMs: number): Promise<void> {
    this.#closing = true;
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    await this.#local.shutdown(timeoutMs);
    await this.#sweeping;
  }

  /** A control message from another server. */
  onControl(control: Control): void {
    if (control.t === 'interrupt') {
      // A request without a turn (a server of an older version) names no turn here.
      if (typeof control.turn !== 'string') return;
      this.#local.interruptTurn(control.s, control.turn, control.reason === 'new_message' ? new NewMessageInterrupt() : new UserInterrupt());
    } else if (control.t === 'started') {
      this.#remote.set(control.s, control.turn);
    } else if (control.t === 'ended') {
      this.#ended(control.s, control.turn);
    }
  }

  /**
   * The lock connection was lost: its locks are gone, so the turns that relied on them stop — with
   * an error, not as interrupted: nobody asked, the server cannot go on running them.
   */
  onLocksLost(): void {
    for (const [sessionUuid, turnId] of this.#held) {
      const error = new AppError('DB_8003', "The connection holding this chat's turn lock to the database was lost; the answer so far is saved. Send your message again to continue.");
      this.#local.interruptTurn(sessionUuid, turnId, new TurnRefused(error));
    }
  }

  /** Ends the open turns of servers that are gone (their session lock is free). */
  async sweep(): Promise<void> {
    try {
      for (const row of await orphanCandidates(this.options.db, this.options.serverId)) {
        if (this.#closing) return;
        if (this.#local.isRunning(row.session_id)) continue;
        if (!(await this.options.locks.tryLock(row.session_id))) continue;
        // The lock is re-entrant on this server's connection: a turn of the session that started
        // here meanwhile holds it already, and may be the dead server's paused turn going on under
        // the same id. That turn is no orphan.
        if (this.#local.isRunning(row.session_id)) {
          await this.options.locks.unlock(row.session_id);
          continue;
        }
        // A turn of the session starting here meanwhile would take the lock as well: it waits.
        let swept = (): void => undefined;
        this.#sweepingSessions.set(row.session_id, new Promise<void>((resolve) => (swept = resolve)));
        try {
          await this.#endOrphan(row.turn_id);
        } finally {
          await this.options.locks.unlock(row.session_id).finally(() => {
            this.#sweepingSessions.delete(row.session_id);
            swept();
          });
          // A turn waiting for the lock (it found the sweeper holding it) retries now, not after
          // its next retry interval — also when another server had ended this turn already.
          this.#ended(row.session_id, row.turn_id);
          this.options.bus.control({ t: 'ended', s: row.session_id, turn: row.turn_id });
        }
      }
      if (++this.#sweeps % PRUNE_EVERY_SWEEPS === 0) await pruneTurnLog(this.options.db, RESUME_GRACE_S, MAX_LOG_AGE_S);
    } catch (err) {
      this.#log.warn({ err: { message: (err as Error).message } }, 'sweeping turns of stopped servers failed');
    }
  }

  /**
   * Takes the session's lock, asking its holder's turn to stop and waiting for its end. `refused`
   * when it cannot (the database fails, or the other turn neither ends nor dies in 30 s); `held`
   * when this server may hold the lock (also after a failed statement: advisory locks ignore
   * rollbacks), so the end of the turn lets it go.
   */
  async #acquire(sessionUuid: string, turnId: string): Promise<{ held: boolean; refused?: AppError }> {
    const deadline = Date.now() + PREVIOUS_TURN_WAIT_MS;
    let askedAt = -Infinity;
    let asked = '';
    let followsRemote = this.#remote.has(sessionUuid);
    await this.#sweepingSessions.get(sessionUuid);
    for (;;) {
      let attempt: StartAttempt;
      try {
        attempt = await this.options.locks.tryStart(sessionUuid, turnId, this.options.serverId);
      } catch (err) {
        this.#log.warn({ err: { message: (err as Error).message }, session: sessionUuid }, 'taking the turn lock failed; the turn is refused');
        return { held: true, refused: new AppError('DB_8003', "This chat's turn lock could not be taken (a database error). Your message is saved; send again to continue.") };
      }
      if (attempt.ok) {
        this.#held.set(sessionUuid, turnId);
        // The previous turn ran elsewhere: its last events must reach our connections first.
        if (followsRemote) await this.options.bus.catchUp().catch(() => undefined);
        this.#remote.delete(sessionUuid);
        // The lock is ours and the turn recorded: a failure from here on must not give the lock
        // up, or another server would take this live turn for a dead server's and end it.
        for (const orphan of attempt.open) {
          await this.#endOrphan(orphan).catch((err: unknown) => {
            this.#log.warn({ err: { message: (err as Error).message }, turn_id: orphan }, 'ending the turn of a server that stopped failed; the sweeper tries again');
          });
        }
        return { held: true };
      }
      followsRemote = true;
      // Ask the turn that holds the lock to stop — by its id, so a request that arrives after it
      // ended cannot stop the session's next turn. Again when the holder changed, or every 2 s.
      const holders = attempt.open.join(' ');
      if (holders !== '' && (holders !== asked || Date.now() - askedAt >= REPEAT_INTERRUPT_MS)) {
        for (const holder of attempt.open) this.options.bus.control({ t: 'interrupt', s: sessionUuid, turn: holder, reason: 'new_message' });
        askedAt = Date.now();
        asked = holders;
      }
      const left = deadline - Date.now();
      if (this.#closing) return { held: false };
      if (left <= 0) {
        this.#log.warn({ session: sessionUuid }, 'the turn of another server did not end in time; this turn is refused');
        return { held: false, refused: new AppError('DB_8003', "The previous turn of this chat, on another server, did not end within 30 s. Your message is saved; send again to continue.") };
      }
      await this.#waitEnded(sessionUuid, Math.min(LOCK_RETRY_MS, left));
    }
  }

  async #release(sessionUuid: string, turnId: string, locked: boolean): Promise<void> {
    const bus = this.options.bus;
    try {
      // Everything the turn said is in the log before anyone else may take the session.
      await bus.sync();
      await turnEnds.call(this.options.db, turnId);
    } catch (err) {
      this.#log.warn({ err: { message: (err as Error).message } }, 'recording the end of a turn failed');
    } finally {
      if (this.#held.get(sessionUuid) === turnId) this.#held.delete(sessionUuid);
      if (locked) await this.options.locks.unlock(sessionUuid).catch(() => undefined);
      bus.control({ t: 'ended', s: sessionUuid, turn: turnId });
    }
  }

  async #endOrphan(turnId: string): Promise<void> {
    const ended = await endOrphanTurn(this.options.db, turnId);
    if (!ended) return;
    this.#log.warn({ turn_id: turnId, session_id: ended.sessionId }, 'ended the turn of a server that stopped');
    for (const { seq, ...body } of ended.events) {
      const event = { ...body, session_id: ended.sessionId, turn_id: turnId, seq };
      if (ended.announced) this.options.bus.publish(ended.sessionUuid, event);
      else this.options.bus.record(ended.sessionUuid, event);
    }
    this.options.bus.control({ t: 'ended', s: ended.sessionUuid, turn: turnId });
    this.#ended(ended.sessionUuid, turnId);
  }

  /** A turn of the session ended elsewhere: forget it and wake the turns waiting for the lock. */
  #ended(sessionUuid: string, turnId: string): void {
    if (this.#remote.get(sessionUuid) === turnId) this.#remote.delete(sessionUuid);
    const waiters = this.#endedWaiters.get(sessionUuid);
    this.#endedWaiters.delete(sessionUuid);
    for (const wake of waiters ?? []) wake();
  }

  #waitEnded(sessionUuid: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.#endedWaiters.get(sessionUuid);
      if (!set) this.#endedWaiters.set(sessionUuid, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, Math.max(ms, 1));
      set.add(wake);
    });
  }
}
