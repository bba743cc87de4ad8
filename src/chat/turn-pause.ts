/**
 * The seam between the chat turn and tool approval (src/approvals): a run that stops because tool
 * calls wait for a person ends the turn `paused` (`RunPaused`), the pause is stored through
 * `TurnPauses`, and a later `TurnResume` continues the same turn — same turn id, seq going on
 * from its last event — on whichever server takes it. The turn holds nothing while paused.
 */
import type { RunToolApprovalItem, Tool } from '@openai/agents';
import type { Logger } from 'pino';
import type { SessionRow } from '../sessions/types.js';
import type { EventSink, ServerEvent, TurnEventBody } from './events.js';
import { parseArguments } from './tool-arguments.js';

/** A tool call the run stopped at, as the model sent it. */
export interface PausedCall {
  callId: string;
  name: string;
  /** The arguments as the model sent them (the tool runs with exactly this text). */
  argsText: string;
  args: Record<string, unknown>;
}

/** What ended a run that waits for approvals (returned as the run's cause, like an error). */
export class RunPaused {
  constructor(readonly calls: readonly PausedCall[]) {}
}

export interface PauseFacts {
  sessionUuid: string;
  sessionId: string;
  userId: string;
  turnId: string;
  calls: readonly PausedCall[];
  /** Seq of the turn's last event sent so far. */
  lastSeq: number;
}

/** What the turn asks of tool approval. */
export interface TurnPauses {
  /**
   * Stores the pause (durable before anyone sees a card) and returns the events to send before
   * `assistant_end{paused}`, which is the turn's next event after them. Throws when it could not.
   */
  pause(facts: PauseFacts): Promise<TurnEventBody[]>;
  /**
   * A new turn of the session is about to run (inside the session's turn slot): a paused turn of
   * the session ends as interrupted by `by`, its waiting calls completed as denied.
   */
  endPaused(sessionUuid: string, by: string): Promise<void>;
}

/** Ends the session's paused turn before a new message's turn; failing to is logged, and the new turn goes on. */
export async function endPausedBefore(pauses: TurnPauses | undefined, sessionUuid: string, log: Logger): Promise<void> {
  try {
    await pauses?.endPaused(sessionUuid, 'a new message');
  } catch (err) {
    log.error({ err }, 'ending the paused turn failed');
  }
}

export interface ResumeContext {
  session: SessionRow;
  emit: (event: TurnEventBody) => void;
  signal: AbortSignal;
  /** The session's tools under their policies, as the agent gets them. */
  tools: (session: SessionRow) => Promise<Tool[]>;
}

/** A paused turn going on: its decided calls run (each once) before the model is asked again. */
export interface TurnResume {
  /** Seq of the last event the turn sent before it went on. */
  lastSeq: number;
  session(): Promise<SessionRow>;
  /** Runs the approved calls, answers the denied ones, saves rows and outputs, sends their events. */
  run(ctx: ResumeContext): Promise<void>;
}

/** Numbers a turn's events after `offset` (a continued turn) and remembers the last seq sent. */
export class SeqSink implements EventSink {
  #last: number;

  constructor(
    private readonly sink: EventSink,
    private readonly offset: number,
  ) {
    this.#last = offset;
  }

  get lastSeq(): number {
    return this.#last;
  }

  publish(sessionUuid: string, event: ServerEvent): void {
    const seq = event.seq === undefined ? undefined : event.seq + this.offset;
    if (seq !== undefined) this.#last = seq;
    this.sink.publish(sessionUuid, seq === undefined ? event : { ...event, seq });
  }
}

/** The calls a run stopped at for approval (the SDK's interruptions), or undefined when none. */
export function pausedCallsOf(interruptions: readonly RunToolApprovalItem[] | undefined): RunPaused | undefined {
  const calls: PausedCall[] = [];
  for (const item of interruptions ?? []) {
    const raw = item.rawItem;
    if (raw.type !== 'function_call') continue;
    calls.push({ callId: raw.callId, name: raw.name, argsText: raw.arguments, args: parseArguments(raw.arguments) });
  }
  return calls.length > 0 ? new RunPaused(calls) : undefined;
}

/** Stores the pause and returns its events; `assistant_end{paused}` follows them. */
export async function pauseEvents(
  pauses: TurnPauses | undefined,
  req: { sessionUuid: string; sessionId: string; userId: string; turnId: string },
  paused: RunPaused,
  lastSeq: number,
): Promise<TurnEventBody[]> {
  if (!pauses) throw new Error('a run paused for approval without tool approval configured');
  const { sessionUuid, sessionId, userId, turnId } = req;
  return pauses.pause({ sessionUuid, sessionId, userId, turnId, calls: paused.calls, lastSeq });
}
