/**
 * A model provider that puts a session's stored history in front of every request's input, so the
 * Agents SDK Runner only ever holds what the turn adds. The Runner copies, keys and compares its
 * whole input on every model call (structured clones, a JSON key per item); with the history
 * outside it, a turn's cost in the Runner does not grow with the length of the conversation. The
 * model sees exactly the items it would have seen had the Runner been given the whole list.
 */
import type { AgentInputItem, Model, ModelProvider, ModelRequest, ModelResponse, StreamEvent } from '@openai/agents';

export class HistoryPrefixProvider implements ModelProvider {
  /**
   * @param base the provider whose models are called
   * @param history items that go before each request's input, in order (not copied: never mutate them)
   */
  constructor(
    private readonly base: ModelProvider,
    private readonly history: readonly AgentInputItem[],
  ) {}

  async getModel(modelName?: string): Promise<Model> {
    const inner = await this.base.getModel(modelName);
    return this.history.length === 0 ? inner : new HistoryPrefixModel(inner, this.history);
  }
}

class HistoryPrefixModel implements Model {
  readonly supportsPromptModelSelection?: boolean;

  constructor(
    private readonly inner: Model,
    private readonly history: readonly AgentInputItem[],
  ) {
    if (inner.supportsPromptModelSelection !== undefined) this.supportsPromptModelSelection = inner.supportsPromptModelSelection;
  }

  #withHistory(request: ModelRequest): ModelRequest {
    const added: AgentInputItem[] = typeof request.input === 'string' ? [{ type: 'message', role: 'user', content: request.input }] : request.input;
    return { ...request, input: [...this.history, ...added] };
  }

  getResponse(request: ModelRequest): Promise<ModelResponse> {
    return this.inner.getResponse(this.#withHistory(request));
  }

  // Not a generator: the inner stream is handed on as it is, with no extra step per event.
  getStreamedResponse(request: ModelRequest): AsyncIterable<StreamEvent> {
    return this.inner.getStreamedResponse(this.#withHistory(request));
  }
}
