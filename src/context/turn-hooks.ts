/**
 * Context management's answers to the chat turn: whether the model may be called (summarizing
 * first when the context is over the threshold), automatic summarization after a completed turn,
 * and the title of an untitled session. The turn applies the decisions to its own rows.
 * Also the completion function the summarizer and titler use: the session's own model, run as an
 * agent without tools.
 */
import { Agent, Runner, type ModelProvider } from '@openai/agents';
import type { ModelCallDecision, TurnFacts, TurnHooks } from '../chat/hooks.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { SessionRow } from '../sessions/types.js';
import { checkBudget, fitsWindow, isOverThreshold } from './budget.js';
import type { CompleteFn } from './summarizer.js';
import { SummarizationFailedError } from './summarizer.js';
import { summarizeSession, summaryFailureAppError, type SummarizeResult } from './summarize-session.js';
import { generateTitle } from './title.js';

/** A completion on `model` with no tools: the summary and title prompts. */
export function modelCompleter(modelProvider: ModelProvider, model: string): CompleteFn {
  const runner = new Runner({ modelProvider, tracingDisabled: true });
  return async (instructions, input, signal) => {
    const agent = new Agent({ name: 'Pulp context', instructions, model });
    const result = await runner.run(agent, input, { signal, maxTurns: 1 });
    return typeof result.finalOutput === 'string' ? result.finalOutput : '';
  };
}

export interface ContextHookDeps {
  /** Where summaries are written (`llm_context`, the card row, the counters). */
  db: Database;
  modelProvider: ModelProvider;
  metrics: Metrics;
  /** `SUMMARY_RETRY_BACKOFF_MS`; default the summarizer's own. */
  summaryRetryBackoffMs?: number;
}

const CONTINUE: ModelCallDecision = { kind: 'continue' };

export function createContextHooks(deps: ContextHookDeps): TurnHooks & {
  summarizeNow(session: SessionRow, window: number): Promise<SummarizeResult>;
} {
  const summarize = async (facts: TurnFacts, force: boolean): Promise<SummarizeResult | undefined> => {
    const model = facts.session.model;
    try {
      const result = await summarizeSession({
        db: deps.db,
        session: facts.session,
        model,
        complete: modelCompleter(deps.modelProvider, model),
        emit: (event) => facts.emit(event),
        force,
        signal: facts.signal,
        window: facts.contextWindow,
        retryBackoffMs: deps.summaryRetryBackoffMs,
      });
      deps.metrics.summarizations.inc({ outcome: result.success ? 'success' : 'skipped' });
      return result;
    } catch (err) {
      if (!(err instanceof SummarizationFailedError)) throw err;
      deps.metrics.summarizations.inc({ outcome: 'failed' });
      const wire = summaryFailureAppError(err);
      facts.emit({ type: 'error', code: wire.code, message: wire.message, recoverable: true, request_id: facts.requestId });
      return undefined;
    }
  };

  return {
    async beforeModelCall(facts) {
      const currentTokens = facts.session.total_tokens;
      const newTokens = Math.max(0, facts.estimatedTokens - currentTokens);
      const window = facts.contextWindow;
      const verdict = checkBudget({ currentTokens, newTokens, window });
      if (verdict === 'too_large') {
        const message = `The message is about ${newTokens} tokens, more than this model's whole context window (${window}). Shorten it or attach it as a file.`;
        return { kind: 'refuse', error: new AppError('CTX_4101', message) };
      }
      if (verdict === 'ok') return CONTINUE;
      const result = await summarize(facts, true);
      // A summary's total already counts the turn's user items.
      const fits = result?.success ? fitsWindow({ currentTokens: result.tokens_after, newTokens: 0, window }) : fitsWindow({ currentTokens, newTokens, window });
      if (fits) return CONTINUE;
      const error = new AppError('CTX_4101', 'The conversation does not fit the model’s context window even after summarizing it.');
      return result?.success ? { kind: 'refuse', error, totalAfterSummary: result.tokens_after } : { kind: 'refuse', error };
    },

    async afterTurn(facts) {
      if (isOverThreshold(facts.estimatedTokens, facts.contextWindow)) await summarize(facts, false);
    },

    async title(model, exchange, signal) {
      const { user, assistant } = await exchange();
      return generateTitle(user, assistant, modelCompleter(deps.modelProvider, model), signal);
    },

    async summarizeNow(session, window) {
      const noop = () => undefined;
      try {
        const result = await summarizeSession({
          db: deps.db,
          session,
          model: session.model,
          complete: modelCompleter(deps.modelProvider, session.model),
          emit: noop,
          force: true,
          window,
          retryBackoffMs: deps.summaryRetryBackoffMs,
        });
        deps.metrics.summarizations.inc({ outcome: result.success ? 'success' : 'skipped' });
        return result;
      } catch (err) {
        if (err instanceof SummarizationFailedError) {
          deps.metrics.summarizations.inc({ outcome: 'failed' });
          throw summaryFailureAppError(err);
        }
        throw err;
      }
    },
  };
}
