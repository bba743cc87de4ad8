/**
 * A `ModelProvider` whose models record every call they make, and check the user's budget before
 * each call that belongs to a turn. One is made per turn, summary or title, so the call context
 * travels with it rather than through shared state.
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

class MeteredModel implements Model {
  readonly supportsPromptModelSelection?: boolean;

  constructor(
    private readonly inner: Model,
    private readonly name: string,
    private readonly recorder: CallRecorder,
    private readonly call: ModelCall,
  ) {
    if (inner.supportsPromptModelSelection !== undefined) this.supportsPromptModelSelection = inner.supportsPromptModelSelection;
  }

  async getResponse(request: ModelRequest): Promise<ModelResponse> {
    await this.#beforeCall();
    const response = await this.inner.getResponse(request);
    await this.recorder.record(this.call, this.name, reportedUsage(response.usage));
    return response;
  }

  async *getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    await this.#beforeCall();
    for await (const event of this.inner.getStreamedResponse(request)) {
      // Written before the Runner sees the end of the answer, so a turn's rows exist when it ends.
      if (event.type === 'response_done') await this.recorder.record(this.call, this.name, reportedUsage(event.response.usage));
      yield event;
    }
  }

  async #beforeCall(): Promise<void> {
    // Summaries and titles are recorded and counted but never refused: the next turn call is.
    if (this.call.purpose === 'turn') await this.recorder.assertWithinBudget(this.call.userId);
  }
}

/** `base` with every model recording its calls against `call`. */
export function meteredProvider(base: ModelProvider, recorder: CallRecorder, call: ModelCall): ModelProvider {
  return {
    async getModel(modelName) {
      const inner = await base.getModel(modelName);
      return new MeteredModel(inner, modelName ?? 'default', recorder, call);
    },
  };
}
