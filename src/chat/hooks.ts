/**
 * What the turn asks of context management (src/context): decisions, not actions. A hook is told
 * facts about the turn and answers; the turn acts — it summarizes (through `Summarize`), takes its
 * own items back out of the context, saves counters and titles.
 */
import type { AppError } from '../errors/app-error.js';
import type { SessionRow } from '../sessions/types.js';
import type { TurnEventBody } from './events.js';

/** What a hook is told about the turn. */
export interface TurnFacts {
  session: SessionRow;
  turnId: string;
  /** Request id of the connection that asked, for `error` events. */
  requestId: string;
  /** Aborted when the turn is interrupted. */
  signal: AbortSignal;
  /** Sends a turn event (stamped with turn_id and seq), e.g. the summarization card. */
  emit(body: TurnEventBody): void;
  /** Estimated tokens of the next model input (before the call) or of the context (after the turn). */
  estimatedTokens: number;
  contextWindow: number;
  /** floor(0.8 × contextWindow). */
  threshold: number;
}

/** Whether the turn may call the model. */
export type ModelCallDecision =
  | { kind: 'continue' }
  /** Summarize the context first, then ask `afterSummary`. */
  | { kind: 'summarize' }
  /** End the turn with `error` before any model call; the turn takes its user items back out of the context. */
  | { kind: 'refuse'; error: AppError };

/** What a summary the turn asked for came to. */
export type SummaryOutcome = { kind: 'summarized'; tokensAfter: number } | { kind: 'not_summarized' };

/** Summarizes the session's context (forced, or only when over the threshold); sends the card through `facts.emit`. */
export type Summarize = (facts: TurnFacts, force: boolean) => Promise<SummaryOutcome>;

/** The first exchange of a session, which its title is made from. */
export interface FirstExchange {
  user: string;
  assistant: string;
}

export interface TurnHooks {
  /** Before the model call: go on, summarize first, or refuse. */
  beforeModelCall(facts: TurnFacts): ModelCallDecision;
  /** After the summary `beforeModelCall` asked for: go on or refuse. */
  afterSummary(facts: TurnFacts, summary: SummaryOutcome): Exclude<ModelCallDecision, { kind: 'summarize' }>;
  /** After a completed turn (before `assistant_end{stop}`): whether to summarize now. */
  afterTurn(facts: TurnFacts): 'summarize' | 'none';
  /**
   * The title of a session that has none, after a completed turn (`exchange` reads its first
   * exchange; `turnId` is the turn it follows); undefined for none. The turn saves and announces
   * it, unless the user renamed it.
   */
  title(of: { session: SessionRow; turnId: string }, exchange: () => Promise<FirstExchange>, signal: AbortSignal): Promise<string | undefined>;
}
