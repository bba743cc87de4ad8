/** Pulp's own model adapters. The entry file only re-exports; see README.md. */
export { azureEndpoint, openAIEndpoint, type Endpoint, type Operation } from './endpoint.js';
export { NativeModelProvider, type WireFormatName } from './native-provider.js';
export { ProviderHttpError, retryAfterMs } from './provider-http-error.js';
export { SseModel, type AnswerContext, type WireFormat } from './sse-model.js';
export { SseTransport, type OpenAnswer, type SseMessage, type TransportOptions } from './sse-transport.js';
