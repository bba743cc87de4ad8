/**
 * Tool approval as the rest of Pulp uses it: puts a turn's tools under their policies, stores a
 * pause, takes decisions (from a socket or REST, on any server), goes on with a turn whose calls
 * are all decided, ends a paused turn a new message or an interrupt replaces, and sweeps: calls
 * nobody answered in time are denied, and a decided turn whose server died before going on is
 * taken up by another.
 */
import type { Tool } from '@openai/agents';
import type { Logger } from 'pino';
import { interruptedToolResult } from '../chat/context-store.js';
import type { ServerEvent, TurnEventBody } from '../chat/events.js';
import { TOOL_INTERRUPTED } from '../chat/row-flags.js';
import type { PauseFacts, TurnPauses, TurnResume } from '../chat/turn-pause.js';
import type { Database } from '../db/database.js';
import type { SessionRow } from '../sessions/types.js';
import { Continuation, saveAnswer } from './continuation.js';
import type { OperatorMode } from './policy.js';
import * as store from './store.js';
import { gateTools, type SourcedTool } from './tool-gate.js';

/** How many expired calls one sweep denies. */
const SWEEP_BATCH = 50;
/** A decided turn nobody went on with for this long is taken up by the sweeper. */
export const STALE_READY_S = 60;

/** What the approvals need of the chat service. */
export interface ChatPort {
  publish(sessionUuid: string, event: ServerEvent): void;
  continueTurn(session: Pick<SessionRow, 'id' | 'session_id' | 'user_id'>, turnId: string, claim: () => Promise<TurnResume | undefined>): Promise<unknown>;
}

export interface ApprovalOptions {
  db: Database;
  logger: Logger;
  /** `TOOL_APPROVAL`. */
  mode: OperatorMode;
  /** `TOOL_APPROVAL_TIMEOUT_S`: a call nobody answers is denied after this long. */
  timeoutS: number;
  /** How often the sweeper looks (default: half the timeout, between 0.2 s and 5 s). */
  sweepIntervalMs?: number;
}

export interface DecisionInput {
  decision: 'approve' | 'deny';
  /** Who decided, as the history shows it (the user's email). */
  by: string;
  reason?: string | undefined;
  always?: boolean | undefined;
}

export class ApprovalService implements TurnPauses {
  readonly #db: Database;
  readonly #log: Logger;
  #chat: ChatPort | undefined;
  #timer: NodeJS.Timeout | undefined;
  #sweeping = false;

  constructor(private readonly options: ApprovalOptions) {
    this.#db = options.db;
    this.#log = options.logger.child({ module: 'approvals' });
  }

  /** Connects the chat service (built after this, since it takes this as its `pauses`). */
  attach(chat: ChatPort): void {
    this.#chat = chat;
  }

  /**
   * A session's tools, each under its policy. A turn's session row, read whole when the turn started,
   * carries the session's policies; a row without them has them read.
   */
  async gate(session: Pick<SessionRow, 'id' | 'tool_approvals'>, tools: readonly SourcedTool[]): Promise<Tool[]> {
    const policies = session.tool_approvals === undefined ? await store.sessionPolicies(this.#db, session.id) : store.parsePolicies(session.tool_approvals);
    return gateTools(tools, this.options.mode, policies);
  }

  async pause(facts: PauseFacts): Promise<TurnEventBody[]> {
    const expiresAt = new Date(Date.now() + this.options.timeoutS * 1000);
    // approval_required for each call, then assistant_end{paused}: the turn's last event for now.
    const lastSeq = facts.lastSeq + facts.calls.length + 1;
    const rows = await store.savePause(this.#db, { ...facts, lastSeq }, facts.calls, expiresAt);
    this.#log.info({ session_id: facts.sessionId, turn_id: facts.turnId, calls: rows.length }, 'turn paused for approval');
    return rows.map((r) => ({ type: 'approval_required', tool_call_id: r.tool_call_id, tool_name: r.tool_name, tool_arguments: r.arguments, expires_at: new Date(r.expires_at).toISOString() }));
  }

  async endPaused(sessionUuid: string, by: string): Promise<void> {
    const ended = await store.endPause(this.#db, sessionUuid, by);
    if (!ended) return;
    const publicId = await this.#publicId(sessionUuid);
    let seq = ended.lastSeq;
    const emit = (body: TurnEventBody): void => this.#chat?.publish(sessionUuid, { ...body, session_id: publicId, turn_id: ended.turnId, seq: ++seq });
    for (const call of ended.calls) {
      if (call.status === 'interrupted') emit({ type: 'approval_resolved', tool_call_id: call.tool_call_id, decision: 'interrupted', by });
      await saveAnswer(this.#db, call, { result: interruptedToolResult(by), success: false, flags: TOOL_INTERRUPTED }, emit);
    }
    emit({ type: 'assistant_end', finish_reason: 'interrupted' });
  }

  /** The session's calls waiting for a person. */
  pending(sessionUuid: string): Promise<store.ApprovalRow[]> {
    return store.listPending(this.#db, sessionUuid);
  }

  /**
   * Decides one waiting call: `approval_resolved` goes to every connection of the session, and the
   * last decision of a turn goes on with it (here, in the background). Throws RES_3060 / RES_3061.
   */
  async decide(session: Pick<SessionRow, 'id' | 'session_id' | 'user_id'>, callId: string, input: DecisionInput): Promise<store.ApprovalRow> {
    const status = input.decision === 'approve' ? 'approved' : 'denied';
    const always = input.always ? (input.decision === 'approve' ? 'auto' : 'deny') : undefined;
    const decided = await store.decide(this.#db, session.id, callId, { status, by: input.by, reason: input.reason ?? null, ...(always ? { always } : {}) });
    this.#resolved(session, decided);
    return decided.row;
  }

  #resolved(session: Pick<SessionRow, 'id' | 'session_id' | 'user_id'>, decided: store.Decided): void {
    const { row } = decided;
    const event: TurnEventBody = { type: 'approval_resolved', tool_call_id: row.tool_call_id, decision: row.status === 'pending' ? 'interrupted' : row.status, by: row.decided_by ?? 'timeout' };
    this.#chat?.publish(session.id, { ...event, session_id: session.session_id, turn_id: row.turn_id, seq: decided.seq });
    if (decided.ready) this.#goOn(session, row.turn_id);
  }

  /** Goes on with a decided turn in the background; the claim inside makes a second try a no-op. */
  #goOn(session: Pick<SessionRow, 'id' | 'session_id' | 'user_id'>, turnId: string): void {
    const chat = this.#chat;
    if (!chat) return;
    const claim = async (): Promise<TurnResume | undefined> => {
      const claimed = await store.claimReady(this.#db, turnId);
      return claimed ? new Continuation(this.#db, session.id, claimed, this.options.timeoutS) : undefined;
    };
    chat.continueTurn(session, turnId, claim).catch((err: unknown) => this.#log.error({ err, turn_id: turnId }, 'going on with the turn failed'));
  }

  /** Starts the sweeper (expired calls, decided turns nobody went on with). */
  start(): void {
    const interval = this.options.sweepIntervalMs ?? Math.min(5_000, Math.max(200, (this.options.timeoutS * 1000) / 2));
    this.#timer ??= setInterval(() => void this.sweep(), interval).unref();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One sweep; never throws. */
  async sweep(): Promise<void> {
    if (this.#sweeping) return;
    this.#sweeping = true;
    try {
      for (const due of await store.expiredPending(this.#db, SWEEP_BATCH)) {
        const session = await this.#sessionOf(due.session_id);
        const decided = await store.decide(this.#db, due.session_id, due.tool_call_id, { status: 'expired', by: 'timeout', reason: null }).catch(() => undefined);
        if (session && decided) this.#resolved(session, decided);
      }
      for (const turnId of await store.staleReady(this.#db, STALE_READY_S, SWEEP_BATCH)) {
        const session = await store.sessionOfTurn(this.#db, turnId);
        if (session) this.#goOn(session, turnId);
      }
    } catch (err) {
      this.#log.warn({ err }, 'approval sweep failed');
    } finally {
      this.#sweeping = false;
    }
  }

  async #sessionOf(sessionUuid: string): Promise<Pick<SessionRow, 'id' | 'session_id' | 'user_id'> | undefined> {
    const { rows } = await this.#db.query<Pick<SessionRow, 'id' | 'session_id' | 'user_id'>>('SELECT id, session_id, user_id FROM sessions WHERE id = $1', [sessionUuid]);
    return rows[0];
  }

  async #publicId(sessionUuid: string): Promise<string> {
    return (await this.#sessionOf(sessionUuid))?.session_id ?? '';
  }
}
