/** Sends one fuzz input of any kind to the target and checks the answer (shared by the fuzzers and the corpus). */
import type { RestInput } from './rest-requests.js';
import { authHeader, expectSafeAnswer, fillPlaceholders, rawRequest, sendablePath, type RawResponse, type Target } from './target.js';

export async function sendRest(target: Target, input: RestInput): Promise<RawResponse> {
  const url = sendablePath(fillPlaceholders(input.url, target));
  const headers: Record<string, string> = { ...authHeader(target, input.auth), ...(input.contentType ? { 'content-type': input.contentType } : {}) };
  const body = input.body === undefined ? undefined : Buffer.from(fillPlaceholders(input.body, target), 'utf8');
  const res = await rawRequest(target.port, input.method, url, headers, body);
  expectSafeAnswer(target, res, `${input.method} ${url} ${input.body?.slice(0, 200) ?? ''}`);
  return res;
}
