/**
 * The `ModelProvider` of Pulp's own adapters: one transport (one endpoint, an undici `Agent`
 * with its keep-alive pool) shared by every model; a model is three references, made per call.
 */
import type { Model, ModelProvider } from '@openai/agents';
import { chatCompletions } from './chat-completions.js';
import { responses } from './responses.js';
import type { Endpoint } from './endpoint.js';
import { SseModel, type WireFormat } from './sse-model.js';
import { SseTransport, type TransportOptions } from './sse-transport.js';

export type WireFormatName = 'chat_completions' | 'responses';

const FORMATS: Record<WireFormatName, WireFormat> = { chat_completions: chatCompletions, responses };

export class NativeModelProvider implements ModelProvider {
  readonly #transport: SseTransport;
  readonly #format: WireFormat;

  constructor(endpoint: Endpoint, format: WireFormatName, options: TransportOptions) {
    this.#transport = new SseTransport(endpoint, options);
    this.#format = FORMATS[format];
  }

  getModel(modelName?: string): Model {
    // Pulp's agents always name their model; no default is guessed here.
    return new SseModel(this.#transport, this.#format, modelName ?? '');
  }
}
