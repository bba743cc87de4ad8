/**
 * The Chat Completions request body for an SDK `ModelRequest`: the history as `messages`, the
 * tools, the model settings. Field for field what the SDK's `OpenAIChatCompletionsModel` sends, for
 * the items Pulp stores (messages with text, image and file parts, reasoning, function calls and
 * their results); items only the Responses API knows are refused with the SDK's `UserError`.
 */
import { UserError, type ModelRequest } from '@openai/agents';
import { asRecord, str, withoutKeys, type Json } from './provider-data.js';

const FUNCTION_NAME = /^[a-zA-Z0-9_-]+$/;
const OMITTED_TOOL_OUTPUT = '[tool output omitted]';
const GPT_56_MODEL = /^gpt-5\.6(?:-(?:sol|terra|luna)(?:-\d{4}-\d{2}-\d{2})?)?$/;

function userContent(content: unknown): unknown {
  if (typeof content === 'string') return content;
  return (Array.isArray(content) ? content : []).map((raw) => {
    const c = asRecord(raw) ?? {};
    const breakpoint = c.promptCacheBreakpoint ? { prompt_cache_breakpoint: c.promptCacheBreakpoint } : {};
    if (c.type === 'input_text') return { type: 'text', text: c.text, ...breakpoint, ...withoutKeys(c.providerData, ['type', 'text']) };
    if (c.type === 'input_image') {
      const source = str(c.image) ?? str(c.imageUrl);
      if (!source) throw new Error(`Only image URLs are supported for input_image: ${JSON.stringify(c)}`);
      const imageUrl = withoutKeys(asRecord(c.providerData)?.image_url, ['url']);
      return {
        type: 'image_url',
        image_url: { url: source, ...(c.detail !== undefined ? { detail: c.detail } : {}), ...imageUrl },
        ...breakpoint,
        ...withoutKeys(c.providerData, ['type', 'image_url']),
      };
    }
    if (c.type === 'input_file') {
      const file: Json = {};
      if (typeof c.file === 'string') {
        const value = c.file.trim();
        if (!value.startsWith('data:')) throw new UserError(`Chat Completions only supports data URLs for file input. If you're trying to pass an uploaded file's ID, use an object with the id property instead: ${JSON.stringify(c)}`);
        file.file_data = value;
      } else if (asRecord(c.file) && 'id' in (c.file as Json)) {
        file.file_id = (c.file as Json).id;
      } else {
        throw new UserError(`File input requires a data URL or file ID: ${JSON.stringify(c)}`);
      }
      const filename = c.filename ?? asRecord(c.providerData)?.filename;
      if (filename) file.filename = filename;
      return { type: 'file', file, ...breakpoint, ...withoutKeys(c.providerData, ['type', 'file', 'filename']) };
    }
    throw new UserError(`Unsupported user content for Chat Completions: ${JSON.stringify(c)}`);
  });
}

function assistantContent(content: unknown): unknown {
  if (typeof content === 'string') return content;
  const out: Json[] = [];
  for (const raw of Array.isArray(content) ? content : []) {
    const c = asRecord(raw) ?? {};
    if (c.type === 'output_text') out.push({ type: 'text', text: c.text, ...withoutKeys(c.providerData, ['type', 'text']) });
    else if (c.type === 'refusal') out.push({ type: 'refusal', refusal: c.refusal, ...withoutKeys(c.providerData, ['type', 'refusal']) });
    // Audio and images are not replayed as assistant content.
  }
  return out;
}

function toolOutput(output: unknown): string {
  if (typeof output === 'string') return output;
  if (Array.isArray(output)) {
    const texts = output.map(asRecord).filter((o) => o?.type === 'input_text');
    return texts.length === 0 ? OMITTED_TOOL_OUTPUT : texts.map((o) => String(o?.text)).join('');
  }
  const record = asRecord(output);
  if (record?.type === 'text' && typeof record.text === 'string') return record.text;
  if (record?.type === 'image' || record?.type === 'file') return OMITTED_TOOL_OUTPUT;
  throw new UserError(`Only text tool outputs are supported for chat completions. Got item: ${JSON.stringify(output)}`);
}

/**
 * The history as Chat Completions messages. Reasoning and function calls of one turn gather on
 * one assistant message, before or after its text, the way the SDK joins them.
 */
export function itemsToMessages(input: ModelRequest['input']): Json[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  const result: Json[] = [];
  let current: Json | undefined;
  let pendingCallData: Json = {};
  const flush = (): void => {
    if (current) {
      if (!Array.isArray(current.tool_calls) || current.tool_calls.length === 0) delete current.tool_calls;
      result.push(current);
      current = undefined;
    }
    pendingCallData = {};
  };
  const ensure = (): Json => (current ??= { role: 'assistant', content: null, tool_calls: [] });
  const hasCalls = (m: Json | undefined): boolean => Array.isArray(m?.tool_calls) && m.tool_calls.length > 0;

  for (const raw of input) {
    const item = raw as unknown as Json;
    const type = item.type;
    if (type === 'message' || (type === undefined && typeof item.role === 'string')) {
      const role = item.role;
      const pendingCalls = role === 'assistant' && current?.content === null && hasCalls(current) ? current : undefined;
      let pendingReasoning: Json | undefined;
      if (role === 'assistant' && !pendingCalls && current && current.content === null && !hasCalls(current) && 'reasoning' in current) {
        pendingReasoning = current;
        current = undefined;
      }
      if (!pendingCalls) flush();
      if (role === 'assistant') {
        const reasoning = pendingReasoning?.reasoning ?? pendingCalls?.reasoning;
        const assistant: Json = {
          role: 'assistant',
          content: assistantContent(item.content),
          ...(typeof reasoning === 'string' ? { reasoning } : {}),
          ...withoutKeys(item.providerData, ['role', 'content', 'tool_calls', 'audio', 'phase']),
        };
        if (pendingCalls) Object.assign(pendingCalls, assistant, pendingCallData);
        else current = assistant;
      } else if (role === 'user') {
        result.push({ role, content: userContent(item.content), ...withoutKeys(item.providerData, ['role', 'content', 'phase']) });
      } else if (role === 'system') {
        result.push({ role, content: item.content, ...withoutKeys(item.providerData, ['role', 'content', 'phase']) });
      }
    } else if (type === 'reasoning') {
      // A reasoning item starts the next assistant turn.
      if (current?.content !== null) flush();
      const rawContent = Array.isArray(item.rawContent) ? item.rawContent : [];
      ensure().reasoning = asRecord(rawContent[0])?.text;
    } else if (type === 'function_call') {
      const name = str(item.name);
      if ((name !== undefined && !FUNCTION_NAME.test(name)) || (typeof item.namespace === 'string' && item.namespace.trim() !== '')) {
        throw new UserError('Namespaced function call history is not supported for chat completions. Please use the Responses API when replaying namespaced tool calls.');
      }
      const assistant = ensure();
      const calls = (assistant.tool_calls as Json[] | undefined) ?? [];
      const providerData = item.providerData;
      calls.push({
        id: item.callId,
        type: 'function',
        function: { name: item.name, arguments: item.arguments ?? '{}', ...withoutKeys(asRecord(providerData)?.function, ['name', 'arguments']) },
        ...withoutKeys(providerData, ['id', 'type', 'function', 'role', 'content', 'tool_calls', 'audio']),
      });
      assistant.tool_calls = calls;
      const assistantData = withoutKeys(providerData, ['role', 'content', 'tool_calls', 'audio', 'id', 'type', 'function']);
      Object.assign(pendingCallData, assistantData);
      Object.assign(assistant, assistantData);
    } else if (type === 'function_call_result') {
      flush();
      result.push({ role: 'tool', tool_call_id: item.callId, content: toolOutput(item.output), ...withoutKeys(item.providerData, ['role', 'tool_call_id', 'content']) });
    } else if (type === 'unknown') {
      flush();
      result.push({ ...asRecord(item.providerData) });
    } else {
      throw new UserError(`Items of type ${String(type)} are not supported for chat completions. Please use the Responses API.`);
    }
  }
  flush();
  return result;
}

function toolChoice(choice: unknown, tools: Json[]): unknown {
  if (choice === undefined || choice === null || choice === 'auto' || choice === 'none') return choice ?? undefined;
  if (choice === 'required') {
    if (tools.length === 0) throw new UserError('modelSettings.toolChoice="required" requires at least one available tool in Chat Completions mode.');
    return choice;
  }
  const name = typeof choice === 'string' ? choice : JSON.stringify(choice);
  if (!tools.some((t) => asRecord(t.function)?.name === name)) {
    throw new UserError(`modelSettings.toolChoice="${name}" does not match any available tool or handoff in Chat Completions mode.`);
  }
  return { type: 'function', function: { name } };
}

function responseFormat(outputType: ModelRequest['outputType']): Json | undefined {
  if (outputType === 'text') return undefined;
  if (outputType.type === 'json_schema') return { type: 'json_schema', json_schema: { name: outputType.name, strict: outputType.strict, schema: outputType.schema } };
  return { type: 'json_object' };
}

export function chatCompletionsBody(request: ModelRequest, model: string, stream: boolean): Json {
  const tools: Json[] = [];
  for (const tool of request.tools) {
    if (tool.type !== 'function') throw new Error(`Hosted tools are not supported with the ChatCompletions API. Got tool type: ${tool.type}, tool: ${JSON.stringify(tool)}`);
    tools.push({ type: 'function', function: { name: tool.name, description: tool.description || '', parameters: tool.parameters, strict: tool.strict } });
  }
  for (const handoff of request.handoffs) {
    tools.push({ type: 'function', function: { name: handoff.toolName, description: handoff.toolDescription || '', parameters: handoff.inputJsonSchema } });
  }
  const messages = itemsToMessages(request.input);
  if (request.systemInstructions) messages.unshift({ content: request.systemInstructions, role: 'system' });

  const settings = request.modelSettings;
  const providerData: Json = { ...settings.providerData };
  // The Runner marks an effort it chose itself; the SDK leaves such an effort out where the
  // provider data names one or the model refuses it next to tools.
  const implicit = (request as { _internal?: { reasoningEffortImplicit?: boolean } })._internal?.reasoningEffortImplicit === true;
  const omitEffort = implicit && (providerData.reasoning_effort !== undefined || (tools.length > 0 && GPT_56_MODEL.test(model)));
  if (settings.reasoning?.effort && !omitEffort) providerData.reasoning_effort = settings.reasoning.effort;
  if (settings.text?.verbosity) providerData.verbosity = settings.text.verbosity;

  const body: Json = {
    model,
    messages,
    tools: tools.length > 0 ? tools : undefined,
    temperature: settings.temperature,
    top_p: settings.topP,
    frequency_penalty: settings.frequencyPenalty,
    presence_penalty: settings.presencePenalty,
    max_tokens: settings.maxTokens,
    tool_choice: toolChoice(settings.toolChoice, tools),
    ...(tools.length > 0 && typeof settings.parallelToolCalls === 'boolean' ? { parallel_tool_calls: settings.parallelToolCalls } : {}),
    stream,
    stream_options: stream ? { include_usage: true } : undefined,
    store: settings.store,
    prompt_cache_retention: settings.promptCacheRetention === 'in-memory' ? 'in_memory' : settings.promptCacheRetention,
    prompt_cache_options: settings.promptCacheOptions,
    ...providerData,
  };
  const format = responseFormat(request.outputType);
  if (format) body.response_format = format;
  return body;
}
