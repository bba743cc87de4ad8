/**
 * A paused turn going on: the decided calls of its last model response are answered — each
 * approved one run once with the arguments the model sent, each denied or expired one answered
 * with the denial the model reads — their rows and `llm_context` outputs saved and their events
 * sent, before the turn asks the model again over the context.
 */
import { RunContext, type FunctionTool, type Tool } from '@openai/agents';
import { ContextStore, interruptedToolResult, syntheticToolResult } from '../chat/context-store.js';
import type { TurnEventBody } from '../chat/events.js';
import { DONE, TOOL_INTERRUPTED, type RowFlags } from '../chat/row-flags.js';
import { toolOutputText, toolSucceeded } from '../chat/stream-mapper.js';
import type { ResumeContext, TurnResume } from '../chat/turn-pause.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { SessionRow } from '../sessions/types.js';
import { toStorableText } from '../util/storable-text.js';
import { errorResult } from '../workspace/tools/tool-result.js';
import { recordOf, type ApprovalRow, type Claimed } from './store.js';
import { deniedResult } from './tool-gate.js';

export interface Answer {
  result: string;
  success: boolean;
  flags: RowFlags;
}

/** Saves one answered call: its row, its output in the context, its `function_completed`. */
export async function saveAnswer(db: Database, call: ApprovalRow, answer: Answer, emit: (e: TurnEventBody) => void): Promise<void> {
  const flags: RowFlags = { ...answer.flags, approval: recordOf(call) };
  await db.query('UPDATE messages SET tool_result = $3, tool_success = $4, metadata = $5 WHERE session_id = $1 AND role = $6 AND tool_call_id = $2', [
    call.session_id,
    call.tool_call_id,
    toStorableText(answer.result),
    answer.success,
    flags,
    'tool_call',
  ]);
  const output = { ...syntheticToolResult({ callId: call.tool_call_id, name: call.tool_name }, answer.result), status: 'completed' as const };
  await new ContextStore(db, call.session_id).addItems([output]);
  const interrupted = answer.flags.interrupted === true ? { interrupted: true } : {};
  emit({ type: 'function_completed', tool_call_id: call.tool_call_id, tool_name: call.tool_name, tool_result: answer.result, tool_success: answer.success, ...interrupted });
}

function isFunctionTool(tool: Tool): tool is FunctionTool {
  return tool.type === 'function';
}

export class Continuation implements TurnResume {
  readonly lastSeq: number;

  constructor(
    private readonly db: Database,
    private readonly sessionUuid: string,
    private readonly claimed: Claimed,
    private readonly timeoutS: number,
  ) {
    this.lastSeq = claimed.lastSeq;
  }

  async session(): Promise<SessionRow> {
    const { rows } = await this.db.query<SessionRow>('UPDATE sessions SET last_used_at = now() WHERE id = $1 RETURNING *', [this.sessionUuid]);
    if (!rows[0]) throw new AppError('SES_4001');
    return rows[0];
  }

  async run(ctx: ResumeContext): Promise<void> {
    const tools = this.claimed.calls.some((c) => c.status === 'approved') ? (await ctx.tools(ctx.session)).filter(isFunctionTool) : [];
    for (const call of this.claimed.calls) {
      const answer = await this.#answer(call, tools, ctx);
      await saveAnswer(this.db, call, answer, ctx.emit);
    }
  }

  async #answer(call: ApprovalRow, tools: FunctionTool[], ctx: ResumeContext): Promise<Answer> {
    if (ctx.signal.aborted) return { result: interruptedToolResult(interruptedBy(ctx.signal)), success: false, flags: TOOL_INTERRUPTED };
    if (call.status === 'denied' || call.status === 'expired') {
      return { result: deniedResult(call.status, call.decided_by, call.reason, this.timeoutS), success: false, flags: DONE };
    }
    if (call.status !== 'approved') return { result: interruptedToolResult(call.decided_by ?? 'the user'), success: false, flags: TOOL_INTERRUPTED };
    const tool = tools.find((t) => t.name === call.tool_name);
    if (!tool) return { result: errorResult('RES_3060', `The tool "${call.tool_name}" is no longer available; it did not run.`), success: false, flags: DONE };
    ctx.emit({ type: 'function_executing', tool_call_id: call.tool_call_id, tool_name: call.tool_name, tool_arguments: call.arguments });
    const toolCall = { type: 'function_call' as const, callId: call.tool_call_id, name: call.tool_name, arguments: call.arguments_text };
    try {
      const result = toolOutputText(await tool.invoke(new RunContext(), call.arguments_text, { toolCall, signal: ctx.signal }));
      return { result, success: toolSucceeded(result), flags: DONE };
    } catch (err) {
      if (ctx.signal.aborted) return { result: interruptedToolResult(interruptedBy(ctx.signal)), success: false, flags: TOOL_INTERRUPTED };
      const message = err instanceof Error ? err.message : String(err);
      return { result: `An error occurred while running the tool. ${message}`.slice(0, 2_000), success: false, flags: DONE };
    }
  }
}

/** Who stopped the turn, as its cancel reason says. */
function interruptedBy(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return typeof reason === 'object' && reason !== null && 'interruptedBy' in reason && typeof reason.interruptedBy === 'string' ? reason.interruptedBy : 'the user';
}
