/**
 * Plugs context management into the chat turn: pre-flight summarization before the model call,
 * automatic summarization after a completed turn, and the background title.
 * Also the completion function the summarizer and titler use: the session's own model, run as an
 * agent without tools.
 */
import { Agent, Runner, type AgentInputItem, type ModelProvider } from '@openai/agents';
import type { TurnHookContext, TurnHooks } from '../chat/turn.js';
import type { Queryable } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { Metrics } from '../observability/metrics.js';
import type { SessionRow } from '../sessions/types.js';
import type { ContextEvent } from './events.js';
import type { CompleteFn } from './summarizer.js';
import { SummarizationFailedError } from './summarizer.js';
import { summarizeSession, summaryFailureAppError, type SummarizeResult } from './summarize-session.js';
import { generateTitle } from './title.js';
import { countItems } from './tokens.js';

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
  modelProvider: ModelProvider;
  metrics: Metrics;
  /** `SUMMARY_RETRY_BACKOFF_MS`; default the summarizer's own. */
  summaryRetryBackoffMs?: number;
}

/**
 * Removes the user items this turn added to `llm_context` (they can never fit the model). When a
 * summary was just written, `total_tokens` counted them too (`tokens_after` covers every item
 * left), so they are taken out of it again; otherwise the stored total never included them.
 */
async function dropTrailingUserItems(db: Queryable, sessionUuid: string, model: string, summarized: boolean): Promise<void> {
  const { rows } = await db.query<{ seq: number; item: AgentInputItem & { role?: string } }>(
    'SELECT seq, item FROM llm_context WHERE session_id = $1 ORDER BY seq DESC LIMIT 50',
    [sessionUuid],
  );
  const trailing = [];
  for (const r of rows) {
    if (r.item.role !== 'user') break;
    trailing.push(r);
  }
  if (trailing.length === 0) return;
  await db.query('DELETE FROM llm_context WHERE session_id = $1 AND seq >= $2', [sessionUuid, Math.min(...trailing.map((r) => r.seq))]);
  if (summarized) {
    const dropped = countItems(model, trailing.map((r) => r.item));
    await db.query('UPDATE sessions SET total_tokens = GREATEST(0, total_tokens - $2) WHERE id = $1', [sessionUuid, dropped]);
  }
}

function emitter(ctx: TurnHookContext) {
  return (event: ContextEvent) => ctx.emit(event);
}

export function createContextHooks(deps: ContextHookDeps): TurnHooks & {
  summarizeNow(db: Parameters<typeof summarizeSession>[0]['db'], session: SessionRow, window: number): Promise<SummarizeResult>;
} {
  const summarize = async (ctx: TurnHookContext, force: boolean): Promise<SummarizeResult | undefined> => {
    try {
      const result = await summarizeSession({
        db: ctx.db,
        session: ctx.session,
        model: ctx.model,
        complete: modelCompleter(deps.modelProvider, ctx.model),
        emit: emitter(ctx),
        force,
        signal: ctx.signal,
        window: ctx.contextWindow,
        retryBackoffMs: deps.summaryRetryBackoffMs,
      });
      deps.metrics.summarizations.inc({ outcome: result.success ? 'success' : 'skipped' });
      return result;
    } catch (err) {
      if (!(err instanceof SummarizationFailedError)) throw err;
      deps.metrics.summarizations.inc({ outcome: 'failed' });
      const wire = summaryFailureAppError(err);
      ctx.emit({ type: 'error', code: wire.code, message: wire.message, recoverable: true, request_id: ctx.turnId });
      return undefined;
    }
  };

  return {
    async beforeModelCall(ctx) {
      const newTokens = Math.max(0, ctx.estimatedTokens - ctx.session.total_tokens);
      if (newTokens > ctx.contextWindow) {
        await dropTrailingUserItems(ctx.db, ctx.session.id, ctx.model, false);
        throw new AppError(
          'CTX_4101',
          `The message is about ${newTokens} tokens, more than this model's whole context window (${ctx.contextWindow}). Shorten it or attach it as a file.`,
        );
      }
      if (ctx.estimatedTokens <= ctx.threshold) return;
      const result = await summarize(ctx, true);
      const after = result?.success ? result.tokens_after : ctx.session.total_tokens + newTokens;
      if (after > ctx.contextWindow) {
        await dropTrailingUserItems(ctx.db, ctx.session.id, ctx.model, result?.success === true);
        throw new AppError('CTX_4101', 'The conversation does not fit the model’s context window even after summarizing it.');
      }
    },

    async afterTurn(ctx) {
      if (ctx.estimatedTokens > ctx.threshold) await summarize(ctx, false);
    },

    onFirstTurnCompleted(ctx) {
      const signal = AbortSignal.timeout(60_000);
      void (async () => {
        const { rows } = await ctx.db.query<{ role: string; content: string | null }>(
          `(SELECT role, content FROM messages WHERE session_id = $1 AND role = 'user' ORDER BY seq ASC LIMIT 1)
           UNION ALL
           (SELECT role, content FROM messages WHERE session_id = $1 AND role = 'assistant' ORDER BY seq DESC LIMIT 1)`,
          [ctx.session.id],
        );
        const user = rows.find((r) => r.role === 'user')?.content ?? '';
        const assistant = rows.find((r) => r.role === 'assistant')?.content ?? '';
        const title = await generateTitle(user, assistant, modelCompleter(deps.modelProvider, ctx.model), signal);
        // A user's rename wins, even one that landed while the title was being generated.
        const updated = await ctx.db.query<{ title: string }>(
          'UPDATE sessions SET title = $2 WHERE id = $1 AND is_named = false RETURNING title',
          [ctx.session.id, title],
        );
        if (updated.rows[0]) ctx.publish({ type: 'session_updated', title });
      })().catch((err: unknown) => ctx.logger.warn({ err }, 'title generation failed'));
    },

    async summarizeNow(db, session, window) {
      const noop = () => undefined;
      try {
        const result = await summarizeSession({
          db,
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
