/**
 * Context management for the chat turn: its decisions (`createContextHooks` — whether the model
 * may be called, summarize first, or refuse; whether to summarize after a turn; a title) and its
 * one action (`createSummarizer` — summarize a session, which the turn calls when a decision says
 * so, and the REST route calls directly). Also the completion function the summarizer and titler
 * use: the session's own model, run as an agent without tools.
 */
import { Agent, Runner, type ModelProvider } from '@openai/agents';
import type { Summarize, TurnHooks } from '../chat/hooks.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { SessionRow } from '../sessions/types.js';
import type { ModelCall } from '../usage/model-call.js';
import { checkBudget, fitsWindow, isOverThreshold } from './budget.js';
import type { CompleteFn } from './summarizer.js';
import { SummarizationFailedError } from './summarizer.js';
import { summarizeSession, summaryFailureAppError, type SummarizeResult, type SummarizeSessionOptions } from './summarize-session.js';
import { generateTitle } from './title.js';

/** Usage accounting as context management needs it: a provider that records each call against `call`. */
export interface CallMeter {
  models(base: ModelProvider, call: ModelCall): ModelProvider;
}

/** A completion on `model` with no tools: the summary and title prompts. */
export function modelCompleter(modelProvider: ModelProvider, model: string): CompleteFn {
  const runner = new Runner({ modelProvider, tracingDisabled: true });
  return async (instructions, input, signal) => {
    const agent = new Agent({ name: 'Pulp context', instructions, model });
    const result = await runner.run(agent, input, { signal, maxTurns: 1 });
    return typeof result.finalOutput === 'string' ? result.finalOutput : '';
  };
}

/** Context management's decisions for the chat turn; they need the model only for titles (recorded by `usage`). */
export function createContextHooks(deps: { modelProvider: ModelProvider; usage: CallMeter }): TurnHooks {
  return {
    beforeModelCall(facts) {
      const currentTokens = facts.session.total_tokens;
      const newTokens = Math.max(0, facts.estimatedTokens - currentTokens);
      const window = facts.contextWindow;
      const verdict = checkBudget({ currentTokens, newTokens, window });
      if (verdict === 'ok') return { kind: 'continue' };
      if (verdict === 'summarize') return { kind: 'summarize' };
      const message = `The message is about ${newTokens} tokens, more than this model's whole context window (${window}). Shorten it or attach it as a file.`;
      return { kind: 'refuse', error: new AppError('CTX_4101', message) };
    },

    afterSummary(facts, summary) {
      const window = facts.contextWindow;
      const currentTokens = facts.session.total_tokens;
      // A summary's total already counts the turn's user items.
      const fits =
        summary.kind === 'summarized'
          ? fitsWindow({ currentTokens: summary.tokensAfter, newTokens: 0, window })
          : fitsWindow({ currentTokens, newTokens: Math.max(0, facts.estimatedTokens - currentTokens), window });
      if (fits) return { kind: 'continue' };
      return { kind: 'refuse', error: new AppError('CTX_4101', 'The conversation does not fit the model’s context window even after summarizing it.') };
    },

    afterTurn(facts) {
      return isOverThreshold(facts.estimatedTokens, facts.contextWindow) ? 'summarize' : 'none';
    },

    async title({ session, turnId }, exchange, signal) {
      const { user, assistant } = await exchange();
      const models = deps.usage.models(deps.modelProvider, { userId: session.user_id, sessionUuid: session.id, turnId, purpose: 'title' });
      return generateTitle(user, assistant, modelCompleter(models, session.model), signal);
    },
  };
}

export interface SummarizerDeps {
  /** Where summaries are written (`llm_context`, the card row, the counters). */
  db: Database;
  modelProvider: ModelProvider;
  /** Records each summary's model calls against the session's user. */
  usage: CallMeter;
  metrics: Metrics;
  /** `SUMMARY_RETRY_BACKOFF_MS`; default the summarizer's own. */
  summaryRetryBackoffMs?: number;
}

/**
 * Summarization for the chat turn (`summarize`: a failure is said as a recoverable `error` event
 * and the turn goes on) and for the REST route (`summarizeNow`: a failure is thrown).
 */
export function createSummarizer(deps: SummarizerDeps): {
  summarize: Summarize;
  summarizeNow(session: SessionRow, window: number): Promise<SummarizeResult>;
} {
  const run = async (
    session: SessionRow,
    turnId: string | null,
    options: Pick<SummarizeSessionOptions, 'emit' | 'force' | 'signal' | 'window'>,
  ): Promise<SummarizeResult> => {
    const models = deps.usage.models(deps.modelProvider, { userId: session.user_id, sessionUuid: session.id, turnId, purpose: 'summary' });
    try {
      const result = await summarizeSession({
        db: deps.db,
        session,
        model: session.model,
        complete: modelCompleter(models, session.model),
        retryBackoffMs: deps.summaryRetryBackoffMs,
        ...options,
      });
      deps.metrics.summarizations.inc({ outcome: result.success ? 'success' : 'skipped' });
      return result;
    } catch (err) {
      if (err instanceof SummarizationFailedError) deps.metrics.summarizations.inc({ outcome: 'failed' });
      throw err;
    }
  };

  return {
    async summarize(facts, force) {
      try {
        const result = await run(facts.session, facts.turnId, { emit: (event) => facts.emit(event), force, signal: facts.signal, window: facts.contextWindow });
        return result.success ? { kind: 'summarized', tokensAfter: result.tokens_after } : { kind: 'not_summarized' };
      } catch (err) {
        if (!(err instanceof SummarizationFailedError)) throw err;
        const wire = summaryFailureAppError(err);
        facts.emit({ type: 'error', code: wire.code, message: wire.message, recoverable: true, request_id: facts.requestId });
        return { kind: 'not_summarized' };
      }
    },

    async summarizeNow(session, window) {
      try {
        return await run(session, null, { emit: () => undefined, force: true, window });
      } catch (err) {
        throw err instanceof SummarizationFailedError ? summaryFailureAppError(err) : err;
      }
    },
  };
}
