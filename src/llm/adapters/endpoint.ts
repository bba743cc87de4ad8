/**
 * Where a model request goes and how it is signed: an OpenAI-compatible server (`{base}/{op}`,
 * `Authorization: Bearer`) or Azure OpenAI (`api-key` header, `api-version` query, Chat
 * Completions under the deployment named by the model). The URLs are the ones the `openai`
 * client builds for the same configuration, so both adapters reach the same place.
 */
import { VERSION } from '../../version.js';

/** The operations the adapters call, as path tails under the base URL. */
export type Operation = 'chat/completions' | 'responses';

export interface Endpoint {
  url(operation: Operation, model: string): string;
  /** Authentication and identification; merged under each request's own headers. */
  readonly headers: Readonly<Record<string, string>>;
  /**
   * `manual` for Azure: a redirect must not carry the `api-key` header to another host
   * (fetch drops `Authorization` on cross-origin redirects, but not custom headers).
   */
  readonly redirect: RequestRedirect;
}

const USER_AGENT = `Pulp/${VERSION}`;

const trimSlashes = (url: string): string => url.replace(/\/+$/, '');

/** An OpenAI-compatible server at `baseUrl` (e.g. `https://api.openai.com/v1`, `http://localhost:11434/v1`). */
export function openAIEndpoint(baseUrl: string, apiKey: string): Endpoint {
  const base = trimSlashes(baseUrl);
  return {
    url: (operation) => `${base}/${operation}`,
    headers: { authorization: `Bearer ${apiKey}`, 'user-agent': USER_AGENT },
    redirect: 'follow',
  };
}

/**
 * Azure OpenAI at `endpoint` (`https://NAME.openai.azure.com`). Chat Completions go to
 * `/openai/deployments/{model}/chat/completions`; the Responses API is not deployment-scoped and
 * takes the deployment as the body's `model` (`/openai/responses`). Both carry `api-version`.
 */
export function azureEndpoint(endpoint: string, apiKey: string, apiVersion: string): Endpoint {
  const base = `${trimSlashes(endpoint)}/openai`;
  const query = `?api-version=${encodeURIComponent(apiVersion)}`;
  return {
    url: (operation, model) =>
      operation === 'chat/completions' ? `${base}/deployments/${encodeURIComponent(model)}/${operation}${query}` : `${base}/${operation}${query}`,
    headers: { 'api-key': apiKey, 'user-agent': USER_AGENT },
    redirect: 'manual',
  };
}
