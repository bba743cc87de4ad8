/**
 * The end of a turn as a pure function: from what the turn left open (a text segment, tool calls,
 * text the model's context does not hold yet) and how it ended, the rows to write, the context
 * items to append and the events to send. The live turn and the cluster's orphan sweeper both end
 * turns with it, so a turn ends the same way whichever server finishes it.
 */
import type { AgentInputItem } from '@openai/agents';
import type { AppError } from '../errors/app-error.js';
import {
  FAILED_TURN_TOOL_RESULT,
  interruptedAssistantMessage,
  interruptedTextMark,
  interruptedToolResult,
  SERVER_STOPPED,
  syntheticToolResult,
} from './context-store.js';
import type { FinishReason, TurnEventBody } from './events.js';
import { cutText, DONE, TOOL_INTERRUPTED, type RowFlags } from './row-flags.js';

/** Marks the text of a failed turn in the model's context. */
export const ERROR_TEXT_MARK = '\n\n[interrupted by an error]';

/** A tool call that had not returned when the turn ended. */
export interface OpenCall {
  callId: string;
  name: string;
  /** The arguments as far as they parse. */
  args: Record<string, unknown>;
  /** Its display row exists (the tool started); otherwise only its card was shown. */
  hasRow: boolean;
  /** Its `function_call` item is in the turn's context items, so it needs an output there. */
  inContext: boolean;
}

/** What a turn left open when it ended. */
export interface OpenTurn {
  /** The text segment still open (its row is written by the end), if any. */
  openText: string | undefined;
  /** Text the model said that no context item holds yet, segments joined by a blank line. */
  unsaid: string;
  calls: readonly OpenCall[];
}

export type TurnOutcome =
  | { kind: 'stop' }
  | { kind: 'max_turns' }
  /** `by`: who or what stopped it, as `CancelReason.interruptedBy` says (the user when not given). */
  | { kind: 'interrupted'; by?: string }
  | { kind: 'error'; error: AppError; requestId: string }
  /** Its server died; `started` when any of its events were sent (else it never said assistant_start). */
  | { kind: 'orphaned'; started: boolean }
  /** Tool calls wait for a person (src/approvals): they stay open, without outputs, until decided. */
  | { kind: 'paused' };

/** The final write of a tool call's row (inserted first when `insert`). */
export interface ToolRowEnd {
  callId: string;
  name: string;
  args: Record<string, unknown>;
  insert: boolean;
  result: string;
  success: boolean;
  flags: RowFlags;
}

export interface TurnEnding {
  finishReason: FinishReason;
  /** The final write of the open text segment. */
  text: { content: string; flags: RowFlags } | undefined;
  tools: ToolRowEnd[];
  /** Appended to `llm_context` after the turn's own items. */
  context: AgentInputItem[];
  /** Sent before the final `token_usage`. */
  events: TurnEventBody[];
  /** Sent last: `error` (if any) and `assistant_end`. */
  closing: TurnEventBody[];
}

const FINISH: Record<TurnOutcome['kind'], FinishReason> = {
  stop: 'stop',
  max_turns: 'max_turns',
  interrupted: 'interrupted',
  error: 'error',
  orphaned: 'interrupted',
  paused: 'paused',
};

/** Errors the user can fix by waiting or retrying; a context that does not fit is not. */
export function isRecoverable(error: AppError): boolean {
  return error.code !== 'CTX_4101';
}

/** The last events of a turn: why it failed (if it did), then `assistant_end`. */
export function closingEvents(finishReason: FinishReason, failure?: { error: AppError; requestId: string }): TurnEventBody[] {
  const end: TurnEventBody = { type: 'assistant_end', finish_reason: finishReason };
  if (!failure) return [end];
  const { error, requestId } = failure;
  return [{ type: 'error', code: error.code, message: error.message, recoverable: isRecoverable(error), request_id: requestId }, end];
}

export function endTurn(open: OpenTurn, outcome: TurnOutcome): TurnEnding {
  const finishReason = FINISH[outcome.kind];
  const closing = closingEvents(finishReason, outcome.kind === 'error' ? outcome : undefined);
  if (outcome.kind === 'stop' || outcome.kind === 'max_turns' || outcome.kind === 'paused') {
    const text = open.openText === undefined ? undefined : { content: open.openText, flags: DONE };
    return { finishReason, text, tools: [], context: [], events: [], closing };
  }
  const failed = outcome.kind === 'error';
  const by = outcome.kind === 'orphaned' ? SERVER_STOPPED : outcome.kind === 'interrupted' ? (outcome.by ?? 'the user') : undefined;
  const result = by === undefined ? FAILED_TURN_TOOL_RESULT : interruptedToolResult(by);
  const flags = failed ? DONE : TOOL_INTERRUPTED;
  const tools = open.calls.map((c) => ({ callId: c.callId, name: c.name, args: c.args, insert: !c.hasRow, result, success: false, flags }));
  const context: AgentInputItem[] = open.calls.filter((c) => c.inContext).map((c) => syntheticToolResult(c, result));
  if (open.unsaid !== '') context.push(interruptedAssistantMessage(open.unsaid, by === undefined ? ERROR_TEXT_MARK : interruptedTextMark(by)));
  const events: TurnEventBody[] = open.calls.map((c) => ({
    type: 'function_completed',
    tool_call_id: c.callId,
    tool_name: c.name,
    tool_result: result,
    tool_success: false,
    ...(failed ? {} : { interrupted: true }),
  }));
  if (outcome.kind === 'orphaned') events.push(outcome.started ? { type: 'stream_interrupted' } : { type: 'assistant_start' });
  const text = open.openText === undefined ? undefined : { content: open.openText, flags: cutText(failed ? 'failed' : 'interrupted') };
  return { finishReason, text, tools, context, events, closing };
}
