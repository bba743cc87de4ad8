/**
 * Model providers and the offline model. The entry file only re-exports; see README.md.
 */
export { createErrorClassifier, createModelProvider, createOpenAIClient, describeLlm, type LlmConfig, type ModelProviderOptions } from './provider.js';
export { classifyProviderError, redactSecrets, type ClassifyOptions } from './provider-errors.js';
export { HistoryPrefixProvider } from './history-prefix.js';
export { OfflineModel, OfflineModelProvider, countTextTokens, type OfflineModelOptions } from './offline-model.js';
