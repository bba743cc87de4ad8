/**
 * Chat Completions answers as SDK output items and usage: the end of a streamed answer (from the
 * state the stream gathered) and a whole non-streamed answer. Item for item what the SDK's
 * `OpenAIChatCompletionsModel` produces, so stored histories do not depend on the adapter.
 */
import { ModelBehaviorError, Usage, type ModelResponse, type protocol } from '@openai/agents';
import { asRecord, num, str, type Json } from './provider-data.js';
import type { AnswerContext } from './sse-model.js';

/** The SDK's id for output items of an answer that named none. */
export const FAKE_ID = 'FAKE_ID';
/** What the SDK says for an answer the provider's content filter withheld without a word. */
export const CONTENT_FILTER_REFUSAL = "Response withheld by the provider's content filter.";

/** The SDK's error for an answer cut by the token limit before it said anything. */
export function truncatedError(): ModelBehaviorError {
  const error = new ModelBehaviorError("Chat Completions response terminated with finish_reason='length' but produced no assistant text, tool call, or refusal.");
  Object.defineProperties(error, { unsafeToReplay: { value: true }, responseStarted: { value: true } });
  return error;
}

export interface ChatCall {
  /** A custom (non-function) tool call, skipped. */
  ignored: boolean;
  callId: string;
  name: string;
  arguments: string;
}

/** What a streamed answer gathered by its end. */
export interface ChatOutputState {
  responseId: string | undefined;
  text: string | undefined;
  annotations: Json[];
  refusal: string | undefined;
  reasoning: string;
  /** By the provider's tool call index. */
  calls: Map<number, ChatCall>;
  finishReason: string | null;
}

/** The streamed usage in the `response_done` shape; zeros when the server sent none. */
export function chatUsage(usage: Json | undefined) {
  return {
    inputTokens: num(usage?.prompt_tokens) ?? 0,
    outputTokens: num(usage?.completion_tokens) ?? 0,
    totalTokens: num(usage?.total_tokens) ?? 0,
    inputTokensDetails: { cached_tokens: num(asRecord(usage?.prompt_tokens_details)?.cached_tokens) ?? 0 },
    outputTokensDetails: { reasoning_tokens: num(asRecord(usage?.completion_tokens_details)?.reasoning_tokens) ?? 0 },
  };
}

/** The output items of a streamed answer: reasoning, then the message, then the function calls. */
export function chatOutput(state: ChatOutputState, messageItemId: string | undefined): protocol.OutputModelItem[] {
  const outputs: protocol.OutputModelItem[] = [];
  const id = state.responseId ?? FAKE_ID;
  if (state.reasoning) outputs.push({ type: 'reasoning', content: [], rawContent: [{ type: 'reasoning_text', text: state.reasoning }] });
  if (state.text !== undefined || state.refusal !== undefined) {
    const content: protocol.AssistantContent[] = [];
    if (state.text !== undefined) content.push({ text: state.text, type: 'output_text', providerData: { annotations: state.annotations } });
    if (state.refusal !== undefined) content.push({ refusal: state.refusal, type: 'refusal' });
    outputs.push({ id: messageItemId ?? id, content, role: 'assistant', type: 'message', status: 'completed' });
  }
  for (const call of state.calls.values()) {
    if (call.ignored) continue;
    // Some providers (Bedrock) send an empty `{}` before the real arguments.
    const args = call.arguments.startsWith('{}{') ? call.arguments.slice(2) : call.arguments;
    outputs.push({ id, arguments: args, name: call.name, type: 'function_call', callId: call.callId });
  }
  return outputs;
}

interface ChatMessage {
  content?: string | null;
  refusal?: string | null;
  reasoning?: unknown;
  audio?: unknown;
  tool_calls?: Array<{ id: string; type: string; function?: { name: string; arguments: string } & Json } & Json>;
  [key: string]: unknown;
}

/** A whole non-streamed answer (`chat.completion`) as the SDK's model response. */
export function chatResponse(body: unknown, context: AnswerContext): ModelResponse {
  const completion = asRecord(body) ?? {};
  const choices = Array.isArray(completion.choices) ? (completion.choices as Json[]) : [];
  const first = choices[0];
  const id = str(completion.id);
  const output: protocol.OutputModelItem[] = [];
  let message: ChatMessage | undefined = asRecord(first?.message);
  if (first && message) {
    const hasOutput = Boolean(message.content || message.refusal || message.tool_calls?.length || message.audio);
    if (first.finish_reason === 'content_filter' && !hasOutput) message = { ...message, content: null, refusal: CONTENT_FILTER_REFUSAL };
    const hasReasoning = typeof message.reasoning === 'string' && message.reasoning !== '';
    const hasFunctionCall = Boolean(message.tool_calls?.some((c) => c.type === 'function'));
    if (first.finish_reason === 'length' && !message.content && !message.refusal && message.audio == null && !hasReasoning && !hasFunctionCall) throw truncatedError();
    if (hasReasoning) output.push({ type: 'reasoning', content: [], rawContent: [{ type: 'reasoning_text', text: message.reasoning as string }] });
    // Azure sends '' rather than null next to tool calls; that is no text.
    const { content, refusal, ...rest } = message;
    if (content !== undefined && content !== null && !(message.tool_calls && content === '')) {
      output.push({ id, type: 'message', role: 'assistant', content: [{ type: 'output_text', text: content || '', providerData: { refusal, ...rest } }], status: 'completed' });
    } else if (refusal) {
      output.push({ id, type: 'message', role: 'assistant', content: [{ type: 'refusal', refusal, providerData: { content, ...rest } }], status: 'completed' });
    }
    for (const call of message.tool_calls ?? []) {
      if (call.type !== 'function' || !call.function) continue;
      // As in the SDK, the provider data keeps the whole `function` object besides its extra fields.
      const { id: callId, ...callData } = call;
      const { arguments: args, name, ...fnData } = call.function;
      output.push({ id, type: 'function_call', arguments: args, name, callId, status: 'completed', providerData: { ...callData, ...fnData } });
    }
  }
  const usage = asRecord(completion.usage);
  return {
    usage: usage
      ? new Usage({
          requests: 1,
          inputTokens: num(usage.prompt_tokens) ?? 0,
          outputTokens: num(usage.completion_tokens) ?? 0,
          totalTokens: num(usage.total_tokens) ?? 0,
          inputTokensDetails: { cached_tokens: num(asRecord(usage.prompt_tokens_details)?.cached_tokens) ?? 0 },
          outputTokensDetails: { reasoning_tokens: num(asRecord(usage.completion_tokens_details)?.reasoning_tokens) ?? 0 },
        })
      : new Usage({ requests: 1 }),
    output,
    responseId: id,
    requestId: context.requestId,
    providerData: completion,
  };
}
