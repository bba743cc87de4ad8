/**
 * What the turn asks of context management (src/context): decisions, not actions. A hook is told
 * facts about the turn and answers; the turn writes its own rows, context items and counters.
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
  /**
   * End the turn with `error` before any model call; the turn takes its user items back out of
   * the context. `totalAfterSummary`: the context's size after a summary the hook wrote, which
   * counts those items.
   */
  | { kind: 'refuse'; error: AppError; totalAfterSummary?: number };

/** The first exchange of a session, which its title is made from. */
export interface FirstExchange {
  user: string;
  assistant: string;
}

export interface TurnHooks {
  /** Before the model call: may summarize the context first, then says whether the turn goes on. */
  beforeModelCall(facts: TurnFacts): Promise<ModelCallDecision>;
  /** After a completed turn (before `assistant_end{stop}`): may summarize the context. */
  afterTurn(facts: TurnFacts): Promise<void>;
  /**
   * The title of a session that has none, after a completed turn (`exchange` reads its first
   * exchange); undefined for none. The turn saves and announces it, unless the user renamed it.
   */
  title(model: string, exchange: () => Promise<FirstExchange>, signal: AbortSignal): Promise<string | undefined>;
}
