/**
 * The model provider, built once at startup from `Config['llm']`: `openai` (OpenAI or
 * any OpenAI-compatible server, Responses API or Chat Completions), `azure` (Azure OpenAI, the model
 * name is the deployment name) or `offline`. The wire format is spoken by Pulp's own adapters
 * (`LLM_ADAPTER=native`, src/llm/adapters) or by the Agents SDK's over the `openai` client
 * (`sdk`); either way the HTTP side is created here, once, and shared by every request. Also the
 * `/health` description and the error classifier bound to the keys.
 */
import { OpenAIProvider, setTracingDisabled, type ModelProvider } from '@openai/agents';
import OpenAI, { AzureOpenAI } from 'openai';
import type { Dispatcher } from 'undici';
import { ConfigError, type Config } from '../config/config.js';
import type { AppError } from '../errors/app-error.js';
import { azureEndpoint, NativeModelProvider, openAIEndpoint, type Endpoint } from './adapters/index.js';
import { OfflineModelProvider, type OfflineModelOptions } from './offline-model.js';
import { classifyProviderError } from './provider-errors.js';

export type LlmConfig = Config['llm'];

/**
 * Longest wait for a model answer (600 s): the client's request timeout. undici adds its own
 * connect (10 s) and body-idle (300 s) limits; see README.
 */
export const MODEL_READ_TIMEOUT_MS = 600_000;
/**
 * One retry: it absorbs a dropped connection or a 502 from a gateway, which are common with local
 * servers and proxies, while an error still reaches the user within about a second. The client
 * never retries once a stream has started, so no answer is duplicated.
 */
export const MODEL_MAX_RETRIES = 1;
/** Sent when an OpenAI-compatible server (Ollama, vLLM, llama.cpp) needs no key: the client insists on one. */
export const PLACEHOLDER_API_KEY = 'not-needed';

export interface ModelProviderOptions {
  /** Options for the offline model (tests shorten its word delay). */
  offline?: OfflineModelOptions;
  /** Replaces the fetch of the SDK adapters' HTTP client (`LLM_ADAPTER=sdk`; tests, proxies). */
  fetch?: typeof fetch;
  /** Where the native adapters send their requests (an undici proxy agent; tests route them to a fake server). */
  dispatcher?: Dispatcher;
}

/** Azure's endpoint and key, or the `ConfigError` naming the missing one. */
function azureSettings(llm: LlmConfig): { endpoint: string; apiKey: string } {
  if (!llm.azureEndpoint) throw new ConfigError('AZURE_OPENAI_ENDPOINT', 'is required when LLM_PROVIDER=azure');
  if (!llm.azureApiKey) throw new ConfigError('AZURE_OPENAI_API_KEY', 'is required when LLM_PROVIDER=azure');
  return { endpoint: llm.azureEndpoint, apiKey: llm.azureApiKey };
}

/** Where the native adapters send requests: the same URLs and credentials as the `openai` client's. */
export function modelEndpoint(llm: LlmConfig): Endpoint {
  if (llm.provider === 'azure') {
    const azure = azureSettings(llm);
    return azureEndpoint(azure.endpoint, azure.apiKey, llm.azureApiVersion);
  }
  return openAIEndpoint(llm.openaiBaseUrl ?? 'https://api.openai.com/v1', llm.openaiApiKey ?? PLACEHOLDER_API_KEY);
}

/** The OpenAI HTTP client for `openai` or `azure` with `LLM_ADAPTER=sdk`; created once and shared. */
export function createOpenAIClient(llm: LlmConfig, options: ModelProviderOptions = {}): OpenAI {
  const common = { timeout: MODEL_READ_TIMEOUT_MS, maxRetries: MODEL_MAX_RETRIES, ...(options.fetch ? { fetch: options.fetch } : {}) };
  if (llm.provider === 'azure') {
    const azure = azureSettings(llm);
    // The base URL is derived here, not passed as `endpoint`: the Azure client would otherwise also
    // read OPENAI_BASE_URL from the process and refuse the pair.
    const baseURL = `${azure.endpoint.replace(/\/+$/, '')}/openai`;
    return new AzureOpenAI({ baseURL, apiKey: azure.apiKey, apiVersion: llm.azureApiVersion, ...common });
  }
  return new OpenAI({
    apiKey: llm.openaiApiKey ?? PLACEHOLDER_API_KEY,
    // An explicit base URL, or the official endpoint; never the process's OPENAI_BASE_URL behind Config's back.
    baseURL: llm.openaiBaseUrl ?? 'https://api.openai.com/v1',
    ...common,
  });
}

/**
 * Builds the `ModelProvider` for the configured provider. Pass it to `new Runner({ modelProvider })`.
 * Also turns off the SDK's trace export (it would send conversations to OpenAI's trace service,
 * which a self-hosted server must not do by default). Throws `ConfigError` for an Azure setup
 * without endpoint or key.
 */
export function createModelProvider(llm: LlmConfig, options: ModelProviderOptions = {}): ModelProvider {
  setTracingDisabled(true);
  if (llm.provider === 'offline') return new OfflineModelProvider(options.offline);
  if (llm.adapter === 'native') {
    return new NativeModelProvider(modelEndpoint(llm), llm.apiMode, { readTimeoutMs: MODEL_READ_TIMEOUT_MS, maxRetries: MODEL_MAX_RETRIES, ...(options.dispatcher ? { dispatcher: options.dispatcher } : {}) });
  }
  return new OpenAIProvider({ openAIClient: createOpenAIClient(llm, options), useResponses: llm.apiMode === 'responses' });
}

/** What `/health` shows about the model: no hosts, no keys. */
export function describeLlm(llm: LlmConfig): { provider: LlmConfig['provider']; mode: 'responses' | 'chat_completions' | 'offline' } {
  return { provider: llm.provider, mode: llm.provider === 'offline' ? 'offline' : llm.apiMode };
}

/** `classifyProviderError` with the configured keys scrubbed from every message. */
export function createErrorClassifier(llm: LlmConfig): (err: unknown) => AppError {
  const secrets = [llm.openaiApiKey, llm.azureApiKey];
  return (err) => classifyProviderError(err, { secrets });
}
