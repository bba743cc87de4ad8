/**
 * Responses API answers as SDK output items and usage: the `response` of a `response.completed`
 * event and a whole non-streamed answer. Item for item what the SDK's `OpenAIResponsesModel`
 * produces for messages, function calls, reasoning and compaction; kinds Pulp never asks for
 * (hosted tool calls) become `unknown` items that keep the wire item whole.
 */
import { ModelBehaviorError, RequestUsage, Usage, type ModelResponse, type protocol } from '@openai/agents';
import { asRecord, num, str, type Json } from './provider-data.js';
import type { AnswerContext } from './sse-model.js';

function contentPart(raw: unknown): protocol.AssistantContent {
  const { type, text, refusal, ...providerData } = asRecord(raw) ?? {};
  const extra = Object.keys(providerData).length > 0 ? { providerData } : {};
  if (type === 'output_text') return { type, text: String(text), ...extra };
  if (type === 'refusal') return { type, refusal: String(refusal), ...extra };
  throw new Error(`Unsupported message content type: ${JSON.stringify(raw)}`);
}

const phaseOf = (v: unknown): { phase?: 'commentary' | 'final_answer' } => (v === 'commentary' || v === 'final_answer' ? { phase: v } : {});

export function outputItems(output: unknown): protocol.OutputModelItem[] {
  return (Array.isArray(output) ? output : []).map((raw): protocol.OutputModelItem => {
    const item = asRecord(raw) ?? {};
    if (item.type === 'message') {
      const { id, type: _type, role: _role, content, status, phase, ...providerData } = item;
      return {
        id: str(id),
        type: 'message',
        role: 'assistant',
        content: (Array.isArray(content) ? content : []).map(contentPart),
        status: status as 'completed',
        ...phaseOf(phase),
        providerData: { ...providerData, ...phaseOf(phase) },
      };
    }
    if (item.type === 'function_call') {
      const { call_id, name, namespace, caller: _caller, status, arguments: args, ...providerData } = item;
      return {
        type: 'function_call',
        id: str(item.id),
        callId: String(call_id),
        name: String(name),
        ...(typeof namespace === 'string' ? { namespace } : {}),
        status: status as 'completed',
        arguments: String(args),
        providerData,
      };
    }
    if (item.type === 'reasoning') {
      const { summary, ...providerData } = item;
      return {
        type: 'reasoning',
        id: str(item.id),
        content: (Array.isArray(summary) ? summary : []).map((s) => {
          const { text, ...rest } = asRecord(s) ?? {};
          return { type: 'input_text', text: String(text), providerData: rest };
        }),
        providerData,
      };
    }
    if (item.type === 'compaction') {
      const { encrypted_content, created_by, ...providerData } = item;
      return { type: 'compaction', id: str(item.id), encrypted_content: String(encrypted_content), created_by: str(created_by), providerData };
    }
    return { type: 'unknown', id: str(item.id), providerData: item };
  });
}

/** A response's usage in the `response_done` shape, with its one per-request entry. */
export function responsesUsage(usage: unknown) {
  const u = asRecord(usage);
  const fields = {
    inputTokens: num(u?.input_tokens) ?? 0,
    outputTokens: num(u?.output_tokens) ?? 0,
    totalTokens: num(u?.total_tokens) ?? 0,
    inputTokensDetails: { ...(asRecord(u?.input_tokens_details) as Record<string, number> | undefined) },
    outputTokensDetails: { ...(asRecord(u?.output_tokens_details) as Record<string, number> | undefined) },
  };
  return { ...fields, requestUsageEntries: [new RequestUsage({ ...fields, endpoint: 'responses.create' })] };
}

/** The SDK's error for a response that ended `failed` or `incomplete` (or an `error` event). */
export function unsuccessfulError(terminal: string): ModelBehaviorError {
  const error = new ModelBehaviorError(
    terminal === 'response.completed'
      ? 'OpenAI Responses terminal event "response.completed" is missing its required response payload.'
      : `OpenAI Responses request ended with unsuccessful terminal state "${terminal}".`,
  );
  Object.defineProperties(error, { unsafeToReplay: { value: true }, responseStarted: { value: true } });
  return error;
}

/** The unsuccessful terminal state of a response, if it has one. */
export function unsuccessfulState(response: Json | undefined, eventType?: string): string | undefined {
  if (eventType === 'response.failed' || eventType === 'response.incomplete' || eventType === 'response.error' || eventType === 'error') return eventType;
  if (eventType === 'response.completed' && !response) return eventType;
  const status = response?.status;
  return status === 'failed' || status === 'incomplete' ? `response.${status}` : undefined;
}

export function responsesResponse(body: unknown, context: AnswerContext): ModelResponse {
  const response = asRecord(body) ?? {};
  const terminal = unsuccessfulState(response);
  if (terminal) throw unsuccessfulError(terminal);
  return {
    usage: new Usage(responsesUsage(response.usage)),
    output: outputItems(response.output),
    responseId: str(response.id),
    requestId: context.requestId,
    providerData: response,
  };
}
