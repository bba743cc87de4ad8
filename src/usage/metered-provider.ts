/**
 * A `ModelProvider` whose models record every call they make, and check the user's budget before
 * each call that belongs to a turn. One is made per turn, summary or title, so the call context
 * travels with it rather than through shared state.
 *
 * Off the stream's critical path: a streamed answer's ledger row is written while the stream goes
 * on (the next call of the turn waits for it, so its budget check sees it), and the turn starts
 * the budget check of its first call itself, while it saves the user's words and gets ready.
 */
import type { Model, ModelProvider, ModelRequest, ModelResponse, StreamEvent } from '@openai/agents';
import { reportedUsage, type ModelCall, type ReportedUsage } from './model-call.js';

/** What the metered models need: the budget check and the ledger write. */
export interface CallRecorder {
  /** Throws the `QUOTA_` refusal when the user has spent a budget. */
  assertWithinBudget(userId: string): Promise<void>;
  /** Records one answered call; never throws (a failed write is logged). */
  record(call: ModelCall, model: string, usage: ReportedUsage): Promise<void>;
}

export interface MeteredOptions {
  /**
   * The budget check of the first call, started by the caller (a turn starts it beside its first
   * statements); the first call awaits it instead of checking again.
   */
  firstCallBudget?: Promise<void>;
}

export class MeteredProvider implements ModelProvider {
  /** Ledger writes of this provider's calls, in order; never rejects. */
  #writes: Promise<void> = Promise.resolve();
  #firstCallBudget: Promise<void> | undefined;

  constructor(
    private readonly base: ModelProvider,
    private readonly recorder: CallRecorder,
    private readonly call: ModelCall,
    options: MeteredOptions = {},
  ) {
    this.#firstCallBudget = options.firstCallBudget;
  }

  async getModel(modelName?: string): Promise<Model> {
    return new MeteredModel(await this.base.getModel(modelName), modelName ?? 'default', this);
  }

  /** Resolves when every call answered so far is in the ledger. */
  settled(): Promise<void> {
    return this.#writes;
  }

  /** Before a call: earlier calls are recorded, then (for a turn) the budget is checked. */
  async beforeCall(): Promise<void> {
    // Summaries and titles are recorded and counted but never refused: the next turn call is.
    if (this.call.purpose !== 'turn') return;
    await this.#writes;
    const firstCallBudget = this.#firstCallBudget;
    if (firstCallBudget) {
      this.#firstCallBudget = undefined;
      return firstCallBudget;
    }
    await this.recorder.assertWithinBudget(this.call.userId);
  }

  /** Queues the ledger row of an answered call; `settled()` waits for it. */
  recordLater(model: string, usage: unknown): void {
    const reported = reportedUsage(usage);
    this.#writes = this.#writes.then(() => this.recorder.record(this.call, model, reported));
  }
}

class MeteredModel implements Model {
  readonly supportsPromptModelSelection?: boolean;

  constructor(
    private readonly inner: Model,
    private readonly name: string,
    private readonly provider: MeteredProvider,
  ) {
    if (inner.supportsPromptModelSelection !== undefined) this.supportsPromptModelSelection = inner.supportsPromptModelSelection;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    await this.provider.beforeCall();
    const response = await this.inner.getResponse(request);
    this.provider.recordLater(this.name, response.usage);
    await this.provider.settled();
    return response;
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    await this.provider.beforeCall();
    for await (const event of this.inner.getStreamedResponse(request)) {
      if (event.type === 'response_done') this.provider.recordLater(this.name, event.response.usage);
      yield event;
    }
  }
}
