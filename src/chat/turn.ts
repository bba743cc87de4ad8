/**
 * One chat turn: saves the user's words, runs the agent with @openai/agents over the
 * session's `llm_context`, streams protocol events, saves display rows and context items as they
 * happen, and ends every turn — stopped, interrupted, failed or out of turns — with a valid context,
 * the partial text saved, `token_usage` and `assistant_end` last.
 */
import { Agent, Runner, type AgentInputItem, type ModelProvider, type Tool } from '@openai/agents';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { toDatabaseAppError } from '../db/errors.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { SessionRow } from '../sessions/types.js';
import { type CancellationToken, Timeout } from './cancellation.js';
import {
  ContextStore,
  FAILED_TURN_TOOL_RESULT,
  INTERRUPTED_TOOL_RESULT,
  interruptedAssistantMessage,
  syntheticToolResult,
  userMessage,
} from './context-store.js';
import type { EventSink, FinishReason, SessionEventBody, TurnEventBody } from './events.js';
import { insertMessage, TurnMessageWriter } from './message-store.js';
import { StreamMapper, type ResponseUsage } from './stream-mapper.js';
import { TurnEmitter } from './turn-emitter.js';
import { MaxTurnsExceededError, isRecoverable } from './turn-errors.js';

/** At most 100 model calls per turn. */
export const MAX_TURNS = 100;
/** How long an ended stream may take to settle its `completed` promise before the turn moves on. */
export const SETTLE_TIMEOUT_MS = 5_000;
const ERROR_TEXT_MARK = '\n\n[interrupted by an error]';

/** What the summarization and title hooks get: the session, a way to speak, and the turn's signal. */
export interface TurnHookContext {
  session: SessionRow;
  turnId: string;
  model: string;
  /** Aborted when the turn is interrupted. */
  signal: AbortSignal;
  /** Sends a turn event (stamped with turn_id and seq), e.g. the summarization card. */
  emit(body: TurnEventBody): void;
  /** Sends a session event (no turn_id), e.g. `session_updated` from a background title. */
  publish(body: SessionEventBody): void;
  /** Estimated tokens of the next model input (before the call) or of the context (after the turn). */
  estimatedTokens: number;
  contextWindow: number;
  /** floor(0.8 × contextWindow). */
  threshold: number;
  db: Database;
  logger: Logger;
}

export interface TurnHooks {
  /**
   * Pre-flight summarization; may throw AppError CTX_4101 to end the turn, after removing the
   * turn's user items from `llm_context` and leaving `sessions.total_tokens` right for the rest.
   */
  beforeModelCall?(ctx: TurnHookContext): Promise<void>;
  /** Automatic summarization after a completed turn (before `assistant_end{stop}`). */
  afterTurn?(ctx: TurnHookContext): Promise<void>;
  /** Background title after the first completed turn of an untitled session. Must not throw. */
  onFirstTurnCompleted?(ctx: TurnHookContext): void;
}

export interface TurnDeps {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  sink: EventSink;
  modelProvider: ModelProvider;
  tools: (session: SessionRow) => Promise<Tool[]>;
  instructions: (session: SessionRow) => Promise<string>;
  countTokens: (model: string, items: AgentInputItem[]) => number;
  contextWindow: (model: string) => number;
  classifyError: (err: unknown) => AppError;
  hooks?: TurnHooks;
  /** Streaming text checkpoint interval (default 2 s). */
  checkpointMs?: number;
  /** Delta coalescing window (default 20 ms). */
  coalesceMs?: number;
}

export interface TurnRequest {
  sessionUuid: string;
  /** Public id (`chat_…`), put on every event. */
  sessionId: string;
  turnId: string;
  contents: string[];
  model?: string;
  reasoningEffort?: string;
  token: CancellationToken;
  /** Request id of the connection that asked, for `error` events and logs. */
  requestId: string;
}

const START_SQL = `UPDATE sessions SET turn_count = turn_count + 1, last_used_at = now(),
  model = COALESCE($2, model), reasoning_effort = COALESCE($3, reasoning_effort)
  WHERE id = $1 RETURNING *`;

async function settle(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Runs one turn to its end; never throws. Returns the finish reason sent in `assistant_end`. */
export async function runTurn(deps: TurnDeps, req: TurnRequest): Promise<FinishReason> {
  const startedAt = performance.now();
  const log = deps.logger.child({ session_id: req.sessionId, turn_id: req.turnId, request_id: req.requestId });
  const emitter = new TurnEmitter(deps.sink, req.sessionUuid, req.sessionId, req.turnId, deps.coalesceMs);
  const writer = new TurnMessageWriter(deps.db, req.sessionUuid, log, deps.checkpointMs);
  const context = new ContextStore(deps.db, req.sessionUuid);
  const userItems = req.contents.map(userMessage);
  const turnItems: AgentInputItem[] = [...userItems];
  let contextQueue: Promise<void> = Promise.resolve();
  let contextError: unknown;
  let lastUsageCurrent: number | undefined;
  let session: SessionRow | undefined;
  let failure: AppError | undefined;
  let maxTurns = false;
  let mapper: StreamMapper | undefined;
  let offCancel: () => void = () => undefined;
  let started = false;

  const window = (model: string) => deps.contextWindow(model);
  const emitUsage = (current: number, model: string, usage?: ResponseUsage) => {
    const limit = window(model);
    lastUsageCurrent = current;
    emitter.emit({
      type: 'token_usage',
      current,
      limit,
      threshold: Math.floor(0.8 * limit),
      ...(usage ? { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens } : {}),
    });
  };
  const hookCtx = (s: SessionRow, estimatedTokens: number): TurnHookContext => ({
    session: s,
    turnId: req.turnId,
    model: s.model,
    signal: req.token.signal,
    emit: (body) => emitter.emit(body),
    publish: (body) => deps.sink.publish(req.sessionUuid, { ...body, session_id: req.sessionId }),
    estimatedTokens,
    contextWindow: window(s.model),
    threshold: Math.floor(0.8 * window(s.model)),
    db: deps.db,
    logger: log,
  });

  try {
    // The user's words are durable before assistant_start.
    session = await deps.db.transaction(async (tx) => {
      for (const content of req.contents) await insertMessage(tx, req.sessionUuid, { role: 'user', content });
      await new ContextStore(tx, req.sessionUuid).addItems(userItems);
      const { rows } = await tx.query<SessionRow>(START_SQL, [req.sessionUuid, req.model ?? null, req.reasoningEffort ?? null]);
      if (!rows[0]) throw new AppError('SES_4001');
      return rows[0];
    });
    emitter.emit({ type: 'assistant_start' });
    started = true;
    offCancel = req.token.onCancel((reason) => {
      if (reason.finishReason === 'interrupted') emitter.emit({ type: 'stream_interrupted' });
    });
    if (req.token.cancelled) return await finish();

    const s = session;
    if (deps.hooks?.beforeModelCall) {
      const estimate = s.total_tokens + deps.countTokens(s.model, userItems);
      try {
        await deps.hooks.beforeModelCall(hookCtx(s, estimate));
      } catch (err) {
        // CTX_4101: the hook took this turn's user items back out of llm_context and left
        // total_tokens right for what remains; the end of the turn must not count them again.
        if (err instanceof AppError && err.code === 'CTX_4101') {
          turnItems.length = 0;
          const { rows } = await deps.db.query<{ total_tokens: number }>('SELECT total_tokens FROM sessions WHERE id = $1', [req.sessionUuid]);
          session = { ...s, total_tokens: rows[0]?.total_tokens ?? s.total_tokens };
        }
        throw err;
      }
    }
    const [history, tools, instructions] = await Promise.all([context.getItems(), deps.tools(s), deps.instructions(s)]);
    const effort = s.reasoning_effort;
    const agent = new Agent({
      name: 'Pulp',
      instructions,
      model: s.model,
      tools,
      modelSettings: effort && effort !== 'none' ? { reasoning: { effort: effort as 'low' | 'medium' | 'high' } } : {},
    });
    const runner = new Runner({ modelProvider: deps.modelProvider, tracingDisabled: true });
    const m = new StreamMapper(
      emitter,
      writer,
      (usage) => {
        deps.metrics.tokens.inc({ direction: 'input' }, usage.inputTokens);
        deps.metrics.tokens.inc({ direction: 'output' }, usage.outputTokens);
        emitUsage(usage.inputTokens + usage.outputTokens, s.model, usage);
      },
      () => {
        // After each tool output, the round so far goes to llm_context (not per delta).
        const items = m.takeContextItems();
        turnItems.push(...items);
        contextQueue = contextQueue
          .then(() => context.addItems(items))
          .catch((err: unknown) => {
            contextError ??= err;
          });
      },
    );
    mapper = m;
    if (req.token.cancelled) return await finish();
    const result = await runner.run(agent, history, { stream: true, signal: req.token.signal, maxTurns: MAX_TURNS });
    try {
      for await (const event of result) {
        m.handle(event);
        if (req.token.cancelled) break;
      }
    } finally {
      await settle(result.completed, req.token.cancelled ? 1_000 : SETTLE_TIMEOUT_MS);
    }
    if (!req.token.cancelled && result.error) throw result.error;
    if (m.firstDeltaAt !== undefined) deps.metrics.timeToFirstToken.observe((m.firstDeltaAt - startedAt) / 1000);
  } catch (err) {
    if (err instanceof MaxTurnsExceededError) maxTurns = true;
    else if (!req.token.cancelled || req.token.reason instanceof Timeout) {
      failure = deps.classifyError(req.token.reason instanceof Timeout ? req.token.reason : err);
      log.warn({ err, code: failure.code }, 'turn failed');
    }
  }
  return await finish();

  /** Ends the turn: completes open calls, saves partial text and items, counts tokens, says why. */
  async function finish(): Promise<FinishReason> {
    const cancelled = req.token.cancelled && !(req.token.reason instanceof Timeout);
    if (req.token.reason instanceof Timeout && !failure) failure = deps.classifyError(req.token.reason);
    let reason: FinishReason = failure ? 'error' : cancelled ? 'interrupted' : maxTurns ? 'max_turns' : 'stop';
    // assistant_start is the first event of every turn, even one that failed before it was sent.
    if (!started) emitter.emit({ type: 'assistant_start' });
    try {
      if (!session) throw failure ?? new AppError('INT_9001');
      const s = session;
      const tail: AgentInputItem[] = mapper ? mapper.takeContextItems() : [];
      // Items this server made up (synthetic outputs, the partial text): no provider counted them.
      const extra: AgentInputItem[] = [];
      if (reason === 'interrupted' || reason === 'error') {
        const interrupted = reason === 'interrupted';
        const unsaid = mapper?.responseText ?? '';
        writer.closeText({ partial: true, status: interrupted ? 'interrupted' : 'failed' });
        const result = interrupted ? INTERRUPTED_TOOL_RESULT : FAILED_TURN_TOOL_RESULT;
        for (const call of mapper?.openCalls() ?? []) {
          if (!call.executing) writer.toolStarted(call.callId, call.name, call.args);
          writer.toolCompleted(call.callId, result, false, interrupted);
          mapper?.markCompleted(call.callId);
          // Only calls whose function_call item reached the context need an output there.
          if (call.executing) extra.push(syntheticToolResult(call, result));
          emitter.emit({
            type: 'function_completed',
            tool_call_id: call.callId,
            tool_name: call.name,
            tool_result: result,
            tool_success: false,
            ...(interrupted ? { interrupted: true } : {}),
          });
        }
        if (unsaid) extra.push(interruptedAssistantMessage(unsaid, interrupted ? undefined : ERROR_TEXT_MARK));
      } else {
        writer.closeText();
      }
      tail.push(...extra);
      turnItems.push(...tail);
      await contextQueue;
      if (contextError) throw contextError;
      await context.addItems(tail);
      await writer.flush();

      const usage = mapper?.lastUsage;
      // The provider's count of the last call, plus what was added since.
      const since = [...(mapper?.itemsSinceUsage ?? []), ...extra];
      const current = usage
        ? usage.inputTokens + usage.outputTokens + (since.length > 0 ? deps.countTokens(s.model, since) : 0)
        : s.total_tokens + deps.countTokens(s.model, turnItems);
      await deps.db.query('UPDATE sessions SET total_tokens = $2, last_used_at = now() WHERE id = $1', [req.sessionUuid, current]);
      if (lastUsageCurrent !== current) emitUsage(current, s.model, usage);

      if (reason === 'stop' && deps.hooks?.afterTurn) {
        try {
          await deps.hooks.afterTurn(hookCtx({ ...s, total_tokens: current }, current));
        } catch (err) {
          log.error({ err }, 'afterTurn hook failed');
        }
      }
    } catch (err) {
      if (!failure) {
        failure = err instanceof AppError ? err : toDatabaseAppError(err);
        log.error({ err }, 'saving the turn failed');
      }
      reason = 'error';
    } finally {
      offCancel();
      writer.dispose();
    }
    if (failure) {
      emitter.emit({
        type: 'error',
        code: failure.code,
        message: failure.message,
        recoverable: isRecoverable(failure),
        request_id: req.requestId,
      });
    }
    emitter.emit({ type: 'assistant_end', finish_reason: reason });
    deps.metrics.turns.inc({ finish_reason: reason });
    deps.metrics.turnDuration.observe((performance.now() - startedAt) / 1000);
    // "First completed turn": no title yet, user-given or generated (a failed title retries next turn).
    if (reason === 'stop' && session && !session.is_named && session.title === null && deps.hooks?.onFirstTurnCompleted) {
      try {
        deps.hooks.onFirstTurnCompleted(hookCtx(session, lastUsageCurrent ?? session.total_tokens));
      } catch (err) {
        log.error({ err }, 'onFirstTurnCompleted hook failed');
      }
    }
    return reason;
  }
}
