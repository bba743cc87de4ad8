/**
 * One chat turn: saves the user's words (for a message after the active leaf, while the model call
 * is made: `openTurn`), asks the hooks whether the model may be called, runs the agent with
 * @openai/agents over the session's `llm_context`, and ends the turn through `endTurn`
 * — stopped, interrupted, failed or out of turns — with a valid context, the partial text saved,
 * `token_usage` and `assistant_end` last. The stream itself goes through StreamMapper into the
 * turn's TurnRecorder.
 */
import { Agent, MaxTurnsExceededError, Runner, type AgentInputItem, type ModelProvider, type Tool } from '@openai/agents';
import type { Logger } from 'pino';
import type { Database } from '../db/database.js';
import { sharedUpdate } from '../db/shared-statement.js';
import { HistoryPrefixProvider } from '../llm/history-prefix.js';
import { tapText } from '../llm/text-tap.js';
import { toDatabaseAppError } from '../db/errors.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { SessionRow } from '../sessions/types.js';
import type { ModelMeter } from '../usage/usage-meter.js';
import { settle } from '../util/settle.js';
import { toStorableObject } from '../util/storable-text.js';
import { TurnRefused, type CancellationToken } from './cancellation.js';
import { ContextStore, repairContext } from './context-store.js';
import type { EventSink, FinishReason } from './events.js';
import type { Summarize, TurnFacts, TurnHooks } from './hooks.js';
import type { TurnBranch } from './branch.js';
import { titleInBackground } from './turn-title.js';
import { StreamMapper } from './stream-mapper.js';
import { closingEvents, endTurn, type TurnEnding, type TurnOutcome } from './turn-end.js';
import type { StreamPace } from './stream-pace.js';
import { TurnEmitter } from './turn-emitter.js';
import { TurnRecorder, type ResponseUsage } from './turn-recorder.js';
import { handleOnceSaved } from './run-events.js';
import { openTurn, READ_FIRST_BELOW, type OpenedTurn } from './turn-starts.js';
import { userItemsFor, type UserWords } from './user-words.js';
import { endPausedBefore, pauseEvents, pausedCallsOf, RunPaused, SeqSink, type TurnPauses, type TurnResume } from './turn-pause.js';

/** At most 100 model calls per turn. */
export const MAX_TURNS = 100;
/** How long an ended stream may take to settle its `completed` promise before the turn moves on. */
export const SETTLE_TIMEOUT_MS = 5_000;

export interface TurnDeps {
  db: Database;
  logger: Logger;
  metrics: Metrics;
  sink: EventSink;
  modelProvider: ModelProvider;
  /** Records every model call of the turn and checks the user's budget before each (src/usage). */
  usage: ModelMeter;
  tools: (session: SessionRow) => Promise<Tool[]>;
  instructions: (session: SessionRow) => Promise<string>;
  countTokens: (model: string, items: AgentInputItem[]) => number;
  contextWindow: (model: string) => number;
  classifyError: (err: unknown) => AppError;
  hooks: TurnHooks;
  summarize: Summarize;
  /** The server's count of streaming turns, which sets how long deltas are merged into one frame. */
  pace?: StreamPace;
  /** Tool approval; without it no run can pause (tools never carry `needsApproval`). */
  pauses?: TurnPauses;
}

export interface TurnRequest extends UserWords {
  sessionUuid: string;
  /** Public id (`chat_…`), put on every event. */
  sessionId: string;
  /** The session's owner, whose budget the turn's model calls count against. */
  userId: string;
  turnId: string;
  model?: string;
  reasoningEffort?: string;
  token: CancellationToken;
  /** Request id of the connection that asked, for `error` events and logs. */
  requestId: string;
  /** Where the turn runs in the conversation tree; default after the active leaf. */
  branch?: TurnBranch;
  /** A paused turn going on (`contents` is empty): its decided calls run first. */
  resume?: TurnResume;
}

/** One turn's parts, as the steps below share them. */
interface Turn {
  deps: TurnDeps;
  req: TurnRequest;
  log: Logger;
  emitter: TurnEmitter;
  recorder: TurnRecorder;
  userItems: AgentInputItem[];
  startedAt: number;
  reported: number | undefined; // the `current` of the last `token_usage` sent
  /** The budget check of the turn's first model call (rejects with the `QUOTA_` refusal). */
  budget: Promise<void>;
  /**
   * The user's words saved, then `assistant_start` sent: whatever says or writes anything of the
   * turn awaits it (the model call may be under way before). Set once the turn is opened.
   */
  saved: Promise<SessionRow> | undefined;
  /** The context before the user's words, read beside their save (`OpenedTurn.earlier`). */
  earlier?: Promise<AgentInputItem[] | undefined>;
  /**
   * The context is the turn's own user items, so none is read back: the session had no context item
   * before this turn (a chat's first turn, as its opening read says) and nothing was added since.
   */
  ownContextOnly: boolean;
}

/** Runs one turn to its end; never throws. Returns the finish reason sent in `assistant_end`. */
export async function runTurn(deps: TurnDeps, req: TurnRequest): Promise<FinishReason> {
  const startedAt = performance.now();
  const userItems = userItemsFor(req.contents, req.attachments);
  const seq = new SeqSink(deps.sink, req.resume?.lastSeq ?? 0);
  const log = deps.logger.child({ session_id: req.sessionId, turn_id: req.turnId, request_id: req.requestId });
  // The user's words are durable before assistant_start. A new message ends the session's paused
  // turn first (its events go before this turn's).
  const endPaused = () => endPausedBefore(deps.pauses, req.sessionUuid, log);
  const readFirst = (deps.pace?.live ?? 0) < READ_FIRST_BELOW;
  const opening = req.resume ? req.resume.session().then(openedAt) : openTurn(deps.db, req, userItems, { readFirst, count: deps.countTokens, endPaused });
  opening.catch(() => undefined); // awaited below; handled here in case the turn fails before
  const turn: Turn = {
    deps,
    req,
    log,
    emitter: new TurnEmitter(seq, req.sessionUuid, req.sessionId, req.turnId, deps.pace),
    recorder: new TurnRecorder(deps.db, req.sessionUuid, userItems),
    userItems,
    startedAt,
    reported: undefined,
    // Asked once the session is read, so that on a one-connection database it runs while the Runner
    // gets ready; the turn's first model call awaits it (and is refused then: the message is kept).
    budget: checkBudget(deps, req.userId, opening.then((o) => o.session.user_quota, () => undefined)),
    saved: undefined,
    ownContextOnly: false,
  };
  let session: SessionRow | undefined; // the session once the user's words are saved
  let cause: unknown; // what ended the run early, if anything
  let offCancel = (): void => undefined;
  const leavePace = deps.pace?.enter();
  try {
    const opened = await opening;
    turn.ownContextOnly = opened.session.had_context === false;
    turn.earlier = opened.earlier;
    turn.saved = opened.saved.then((row) => {
      session = row;
      turn.emitter.emit({ type: 'assistant_start' });
      offCancel = req.token.onCancel((reason) => {
        if (reason.finishReason === 'interrupted') turn.emitter.emit({ type: 'stream_interrupted' });
      });
      return row;
    });
    turn.saved.catch(() => undefined); // awaited below, whatever happens before
    if (req.resume) await req.resume.run({ session: await turn.saved, emit: (e) => turn.emitter.emit(e), signal: req.token.signal, tools: deps.tools });
    const checked = await beforeModelCall(turn, opened.session);
    if (checked.refused) {
      session = checked.session;
      throw checked.refused;
    }
    cause = await runAgent(turn, checked.session);
  } catch (err) {
    cause = err;
  }
  // A save that failed is the turn's reason: the run (if any) was stopped before it said anything.
  const unsaved = await turn.saved?.then(
    () => undefined,
    (err: unknown) => err ?? new AppError('INT_9001'),
  );
  if (unsaved !== undefined) cause = unsaved;
  // assistant_start is the first event of every turn, even one that failed before it was sent.
  if (!session) turn.emitter.emit({ type: 'assistant_start' });
  const ending = endTurn(turn.recorder.open(), outcomeOf(turn, cause, session));
  for (const event of ending.events) turn.emitter.emit(event);
  let { finishReason, closing } = ending;
  try {
    if (session) await saveEnding(turn, session, ending);
    if (cause instanceof RunPaused) for (const event of await pauseEvents(deps.pauses, req, cause, seq.lastSeq)) turn.emitter.emit(event);
  } catch (err) {
    // A turn that failed already says why; otherwise the failed save is the reason.
    if (finishReason !== 'error') {
      turn.log.error({ err }, 'saving the turn failed');
      closing = closingEvents('error', { error: err instanceof AppError ? err : toDatabaseAppError(err), requestId: req.requestId });
      finishReason = 'error';
    }
  } finally {
    offCancel();
    leavePace?.();
    turn.recorder.dispose();
  }
  for (const event of closing) turn.emitter.emit(event);
  deps.metrics.turns.inc({ finish_reason: finishReason });
  deps.metrics.turnDuration.observe((performance.now() - startedAt) / 1000);
  // "First completed turn": no title yet, user-given or generated (a failed title retries next turn).
  if (finishReason === 'stop' && session && !session.is_named && session.title === null) titleInBackground(deps, req, turn.log, session);
  return finishReason;
}

/** A turn opened on a session whose user's words are saved already (a paused turn going on). */
const openedAt = (session: SessionRow): OpenedTurn => ({ session, saved: Promise.resolve(session) });

/** `earlier` items with the turn's own user items after them, as reading them back would give them (stored form, repaired). */
function withOwnItems(earlier: readonly AgentInputItem[], userItems: readonly AgentInputItem[]): AgentInputItem[] {
  return repairContext([...earlier, ...userItems.map((item) => toStorableObject(item as unknown as Record<string, unknown>) as unknown as AgentInputItem)]);
}

/**
 * The turn's context: its own user items alone on a chat's first turn, else those after the
 * context read beside their save, else (something else was saved meanwhile) the context read back.
 */
async function contextOf(turn: Turn): Promise<AgentInputItem[]> {
  if (turn.ownContextOnly) return withOwnItems([], turn.userItems);
  const earlier = await turn.earlier;
  if (earlier) return withOwnItems(earlier, turn.userItems);
  await turn.saved;
  return new ContextStore(turn.deps.db, turn.req.sessionUuid).getItems();
}

/**
 * The user's budget check, started now and awaited later; marked handled so an early refusal is no
 * unhandled rejection. `quota`: the user's overrides, when the turn's start row carries them.
 */
function checkBudget(deps: TurnDeps, userId: string, quota: Promise<unknown>): Promise<void> {
  const check = deps.usage.assertWithinBudget(userId, quota);
  check.catch(() => undefined);
  return check;
}

function factsOf(turn: Turn, session: SessionRow, estimatedTokens: number): TurnFacts {
  const contextWindow = turn.deps.contextWindow(session.model);
  return {
    session,
    turnId: turn.req.turnId,
    requestId: turn.req.requestId,
    signal: turn.req.token.signal,
    emit: (body) => turn.emitter.emit(body),
    estimatedTokens,
    contextWindow,
    threshold: Math.floor(0.8 * contextWindow),
  };
}

/**
 * Asks the hooks whether the model may be called, summarizing first when they say so. A refusal
 * takes the turn's user items back out of `llm_context` (they can never fit) and ends the turn
 * with the hook's error.
 */
async function beforeModelCall(turn: Turn, opened: SessionRow): Promise<{ session: SessionRow; refused?: AppError }> {
  if (turn.req.token.cancelled) return { session: opened };
  const { deps, req, userItems } = turn;
  const userTokens = deps.countTokens(opened.model, userItems);
  let decision = deps.hooks.beforeModelCall(factsOf(turn, opened, opened.total_tokens + userTokens));
  if (decision.kind === 'continue') return { session: opened };
  // A summary or a refusal changes the stored context: after the user's words are in it.
  const session = (await turn.saved) ?? opened;
  const facts = factsOf(turn, session, session.total_tokens + userTokens);
  let summarized: number | undefined;
  if (decision.kind === 'summarize') {
    // A user over budget is refused before the summary too: it would be spent for nothing.
    await turn.budget;
    // The summary changes the stored context: the turn reads it back.
    turn.ownContextOnly = false;
    turn.earlier = undefined;
    const summary = await deps.summarize(facts, true);
    // The summary counts: the first model call is checked again, with it.
    turn.budget = checkBudget(deps, req.userId, Promise.resolve(session.user_quota));
    if (summary.kind === 'summarized') summarized = summary.tokensAfter;
    decision = deps.hooks.afterSummary(facts, summary);
  }
  if (decision.kind === 'continue') return { session };
  await new ContextStore(deps.db, req.sessionUuid).removeNewest(userItems.length);
  turn.recorder.forgetUserItems();
  // A summary's total counted the user items; without one, the stored total never did.
  const total = summarized === undefined ? session.total_tokens : Math.max(0, summarized - userTokens);
  return { session: { ...session, total_tokens: total }, refused: decision.error };
}

/**
 * The agent run: the stream goes through the mapper into the recorder and out as events. Returns
 * what ended the run early (the SDK keeps a stream's failure rather than throwing it).
 */
async function runAgent(turn: Turn, session: SessionRow): Promise<unknown> {
  const { deps, req } = turn;
  if (req.token.cancelled) return undefined;
  const [history, tools, instructions] = await Promise.all([contextOf(turn), deps.tools(session), deps.instructions(session)]);
  if (req.token.cancelled) return undefined;
  const effort = session.reasoning_effort;
  const agent = new Agent({
    name: 'Pulp',
    instructions,
    model: session.model,
    tools,
    modelSettings: effort && effort !== 'none' ? { reasoning: { effort: effort as 'low' | 'medium' | 'high' } } : {},
  });
  const mapper = new StreamMapper(turn.recorder, turn.emitter, (usage) => {
    deps.metrics.tokens.inc({ direction: 'input' }, usage.inputTokens);
    deps.metrics.tokens.inc({ direction: 'output' }, usage.outputTokens);
    reportUsage(turn, session, usage.inputTokens + usage.outputTokens, usage);
  });
  const call = { userId: req.userId, sessionUuid: session.id, turnId: req.turnId, purpose: 'turn' } as const;
  // The Runner holds only this turn's items (its user items, saved last); the history goes in front of each request.
  const own = Math.max(1, Math.min(turn.userItems.length, history.length));
  // The answer's text goes from the model straight to the mapper; the Runner gets the other events.
  const tapped = tapText(deps.modelProvider, mapper.textTap);
  const earlier = new HistoryPrefixProvider(tapped, history.slice(0, history.length - own));
  const modelProvider = deps.usage.models(earlier, call, { firstCallBudget: turn.budget });
  const runner = new Runner({ modelProvider, tracingDisabled: true });
  const offClose = req.token.onCancel(() => mapper.close());
  // Stops the run when the user's words could not be saved.
  const unsaved = new AbortController();
  const signal = AbortSignal.any([req.token.signal, unsaved.signal]);
  const result = await runner.run(agent, history.slice(history.length - own), { stream: true, signal, maxTurns: MAX_TURNS });
  try {
    // Till the words are saved, the answer's text waits in the mapper's gate and the run's events here.
    await handleOnceSaved(result, turn.saved ?? Promise.resolve(), {
      handle: (event) => mapper.handle(event),
      stop: () => unsaved.abort(),
      cancelled: () => req.token.cancelled,
    });
  } finally {
    offClose();
    mapper.close();
    await settle(result.completed, signal.aborted ? 1_000 : SETTLE_TIMEOUT_MS);
    // The turn's ledger rows are in before it ends, so the next turn's budget check counts them.
    await modelProvider.settled();
  }
  if (!req.token.cancelled && result.error) return result.error;
  const firstTextAt = turn.recorder.firstTextAt;
  if (firstTextAt !== undefined) deps.metrics.timeToFirstToken.observe((firstTextAt - turn.startedAt) / 1000);
  return req.token.cancelled ? undefined : pausedCallsOf(result.interruptions);
}

/** How the turn ended, from what ended its run early (if anything) and the token. */
function outcomeOf(turn: Turn, cause: unknown, session: SessionRow | undefined): TurnOutcome {
  const { req } = turn;
  const failed = (error: AppError): TurnOutcome => {
    turn.log.warn({ err: cause, code: error.code }, 'turn failed');
    return { kind: 'error', error, requestId: req.requestId };
  };
  if (!session) return failed(cause === undefined ? new AppError('INT_9001') : turn.deps.classifyError(cause));
  if (req.token.reason instanceof TurnRefused) return failed(req.token.reason.error);
  const interrupted: TurnOutcome = { kind: 'interrupted', ...(req.token.reason ? { by: req.token.reason.interruptedBy } : {}) };
  if (cause === undefined) return req.token.cancelled ? interrupted : { kind: 'stop' };
  if (req.token.cancelled) return interrupted;
  if (cause instanceof RunPaused) return { kind: 'paused' };
  if (cause instanceof MaxTurnsExceededError) return { kind: 'max_turns' };
  return failed(turn.deps.classifyError(cause));
}

function reportUsage(turn: Turn, session: SessionRow, current: number, usage: ResponseUsage | undefined): void {
  const limit = turn.deps.contextWindow(session.model);
  turn.reported = current;
  turn.emitter.emit({
    type: 'token_usage',
    current,
    limit,
    threshold: Math.floor(0.8 * limit),
    ...(usage ? { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens } : {}),
  });
}

// The context sizes of the turns ending meanwhile, saved in one statement.
const contextSizes = sharedUpdate<{ sessionUuid: string; tokens: number }>(
  `UPDATE sessions s SET total_tokens = v.tokens, last_used_at = now()
   FROM unnest($1::text[], $2::bigint[]) AS v(id, tokens) WHERE s.id = v.id::uuid`,
  (all) => [all.map((a) => a.sessionUuid), all.map((a) => a.tokens)],
);

/** Writes the end, saves the context's size (and says it when it changed), then summarizes when the hooks say so. */
async function saveEnding(turn: Turn, session: SessionRow, ending: TurnEnding): Promise<void> {
  const { deps, req, recorder } = turn;
  await recorder.end(ending);
  // Items this server made up (synthetic outputs, the partial text): no provider counted them.
  const current = recorder.contextTokens(session.total_tokens, ending.context, (items) => deps.countTokens(session.model, items));
  await contextSizes.call(deps.db, { sessionUuid: req.sessionUuid, tokens: current });
  if (turn.reported !== current) reportUsage(turn, session, current, recorder.usage);
  if (ending.finishReason !== 'stop') return;
  const facts = factsOf(turn, { ...session, total_tokens: current }, current);
  if (deps.hooks.afterTurn(facts) === 'none') return;
  try {
    await deps.summarize(facts, false);
  } catch (err) {
    turn.log.error({ err }, 'summarizing after the turn failed');
  }
}
