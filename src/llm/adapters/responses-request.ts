/**
 * The Responses API request body for an SDK `ModelRequest`. Field for field what the SDK's
 * `OpenAIResponsesModel` sends for the items and tools Pulp uses (messages with text, image and
 * file parts, reasoning, function calls and their results; function tools). Hosted tools, prompt
 * templates and the Responses-only item kinds (computer, shell, tool search…) are refused with a
 * `UserError` naming `LLM_ADAPTER=sdk`, which supports them.
 */
import { UserError, type AgentInputItem, type ModelRequest } from '@openai/agents';
import { asRecord, snakeCased, snakeWithoutKeys, str, type Json } from './provider-data.js';

/** The SDK's placeholder id, never sent to the server. */
const FAKE_ID = 'FAKE_ID';

const unsupported = (what: string): UserError => new UserError(`${what} is not supported by Pulp's native Responses adapter; set LLM_ADAPTER=sdk to use it.`);

function inputContent(raw: unknown): Json {
  const c = asRecord(raw) ?? {};
  const breakpoint = c.promptCacheBreakpoint ? { prompt_cache_breakpoint: c.promptCacheBreakpoint } : {};
  if (c.type === 'input_text') return { type: 'input_text', text: c.text, ...breakpoint, ...snakeWithoutKeys(c.providerData, ['type', 'text']) };
  if (c.type === 'input_image') {
    const entry: Json = { type: 'input_image', detail: c.detail ?? 'auto' };
    const image = c.image;
    if (typeof image === 'string') entry.image_url = image;
    else if (asRecord(image) && 'id' in (image as Json)) entry.file_id = (image as Json).id;
    else if (typeof c.imageUrl === 'string') entry.image_url = c.imageUrl;
    else if (typeof c.fileId === 'string') entry.file_id = c.fileId;
    return { ...entry, ...breakpoint, ...snakeWithoutKeys(c.providerData, ['type', 'detail', 'image_url', 'file_id']) };
  }
  if (c.type === 'input_file') {
    const entry: Json = { type: 'input_file' };
    const file = c.file;
    if (typeof file === 'string') {
      const value = file.trim();
      if (value.startsWith('data:') || /^[A-Za-z0-9+/=]+$/.test(value)) entry.file_data = value;
      else if (value.startsWith('https://')) entry.file_url = value;
      else throw new UserError("Unsupported string data for file input. If you're trying to pass an uploaded file's ID, use an object with the ID property instead.");
    } else if (asRecord(file) && 'id' in (file as Json)) {
      entry.file_id = (file as Json).id;
    } else if (asRecord(file) && 'url' in (file as Json)) {
      entry.file_url = (file as Json).url;
    }
    if (typeof c.fileData === 'string') entry.file_data = c.fileData;
    if (typeof c.fileUrl === 'string') entry.file_url = c.fileUrl;
    if (typeof c.fileId === 'string') entry.file_id = c.fileId;
    if (c.filename) entry.filename = c.filename;
    return { ...entry, ...breakpoint, ...snakeWithoutKeys(c.providerData, ['type', 'file_data', 'file_url', 'file_id', 'filename']) };
  }
  throw new UserError(`Unsupported input content type: ${JSON.stringify(c)}`);
}

function outputContent(raw: unknown): Json {
  const c = asRecord(raw) ?? {};
  if (c.type === 'output_text') {
    const annotations = asRecord(c.providerData)?.annotations;
    return { type: 'output_text', text: c.text, annotations: Array.isArray(annotations) ? annotations : [], ...snakeWithoutKeys(c.providerData, ['type', 'text', 'annotations']) };
  }
  if (c.type === 'refusal') return { type: 'refusal', refusal: c.refusal, ...snakeWithoutKeys(c.providerData, ['type', 'refusal']) };
  throw new UserError(`Unsupported output content type: ${JSON.stringify(c)}`);
}

/** Leaves out the SDK's placeholder id, which the server would refuse. */
function withoutFakeId(entry: Json): Json {
  if (entry.id !== FAKE_ID) return entry;
  const { id: _id, ...rest } = entry;
  return rest;
}

function messageItem(item: Json): Json {
  const reserved = ['id', 'role', 'content', 'phase'];
  if (item.role === 'system') return { id: item.id, role: 'system', content: item.content, ...snakeWithoutKeys(item.providerData, reserved) };
  if (item.role === 'user') {
    const content = typeof item.content === 'string' ? item.content : (Array.isArray(item.content) ? item.content : []).map(inputContent);
    return { id: item.id, role: 'user', content, ...snakeWithoutKeys(item.providerData, reserved) };
  }
  if (item.role === 'assistant') {
    const phase = item.phase ?? asRecord(item.providerData)?.phase;
    if (phase !== undefined && phase !== 'commentary' && phase !== 'final_answer') {
      throw new UserError(`Invalid assistant message phase: ${JSON.stringify(phase)}. Expected "commentary" or "final_answer".`);
    }
    return withoutFakeId({
      type: 'message',
      id: item.id,
      role: 'assistant',
      content: (Array.isArray(item.content) ? item.content : []).map(outputContent),
      status: item.status,
      ...(phase === undefined ? {} : { phase }),
      ...snakeWithoutKeys(item.providerData, ['type', 'id', 'role', 'content', 'status', 'phase']),
    });
  }
  throw new UserError(`Unsupported item ${JSON.stringify(item)}`);
}

/** A tool's output as the Responses API takes it: a string, or a list of input parts. */
function toolOutput(output: unknown): unknown {
  if (typeof output === 'string') return output;
  const record = asRecord(output);
  if (record?.type === 'text' && typeof record.text === 'string') return record.text;
  if (Array.isArray(output)) {
    return output.map((part) => {
      const p = asRecord(part) ?? {};
      if (p.type === 'input_text') return { type: 'input_text', text: p.text };
      throw unsupported('A tool output with images or files');
    });
  }
  if (record?.type === 'image' || record?.type === 'file') throw unsupported('A tool output with images or files');
  return String(output);
}

export function inputItems(input: ModelRequest['input']): Json[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return input.map(inputItem);
}

/**
 * The wire JSON of input items that cannot change, by item: the kept context's items are frozen
 * and are the same objects turn after turn, so a long history is converted and serialized once.
 */
const frozenItemJson = new WeakMap<object, string>();

/** The JSON text of `input`'s wire items. */
function inputJson(input: ModelRequest['input']): string {
  if (typeof input === 'string') return JSON.stringify(inputItems(input));
  const parts = input.map((item) => {
    const kept = frozenItemJson.get(item);
    if (kept !== undefined) return kept;
    const text = JSON.stringify(inputItem(item));
    if (Object.isFrozen(item)) frozenItemJson.set(item, text);
    return text;
  });
  return `[${parts.join(',')}]`;
}

function inputItem(raw: AgentInputItem): Json {
  const item = raw as unknown as Json;
  const type = item.type;
  let entry: Json;
  if (type === 'message' || (type === undefined && typeof item.role === 'string')) {
    entry = messageItem(item);
  } else if (type === 'function_call') {
    if (item.caller !== undefined) throw unsupported('Programmatic tool calling');
    entry = withoutFakeId({
      id: item.id,
      type: 'function_call',
      name: item.name,
      call_id: item.callId,
      arguments: item.arguments,
      status: item.status,
      ...(typeof item.namespace === 'string' ? { namespace: item.namespace } : {}),
      ...snakeWithoutKeys(item.providerData, ['id', 'type', 'name', 'call_id', 'arguments', 'status', 'namespace', 'caller']),
    });
  } else if (type === 'function_call_result') {
    if (item.caller !== undefined) throw unsupported('Programmatic tool calling');
    entry = {
      type: 'function_call_output',
      id: item.id,
      call_id: item.callId,
      output: toolOutput(item.output),
      status: item.status,
      ...snakeWithoutKeys(item.providerData, ['type', 'id', 'call_id', 'output', 'status', 'namespace', 'caller']),
    };
  } else if (type === 'reasoning') {
    const data = asRecord(item.providerData);
    const encrypted = data?.encryptedContent ?? data?.encrypted_content;
    entry = {
      id: item.id,
      type: 'reasoning',
      summary: (Array.isArray(item.content) ? item.content : []).map((c) => ({
        type: 'summary_text',
        text: asRecord(c)?.text,
        ...snakeWithoutKeys(asRecord(c)?.providerData, ['type', 'text']),
      })),
      ...(typeof encrypted === 'string' ? { encrypted_content: encrypted } : {}),
      ...snakeWithoutKeys(item.providerData, ['id', 'type', 'summary', 'encrypted_content']),
    };
  } else if (type === 'unknown') {
    entry = { ...(asRecord(snakeCased(item.providerData)) ?? {}), id: item.id };
  } else {
    throw unsupported(`History items of type ${String(type)}`);
  }
  // `created_by` is an output-only field the server refuses in input.
  if ('created_by' in entry) delete entry.created_by;
  return entry;
}

function toolChoice(choice: ModelRequest['modelSettings']['toolChoice'], tools: Json[]): unknown {
  if (choice === undefined) return undefined;
  if (choice === 'auto' || choice === 'none') return choice;
  const names = tools.map((t) => str(t.name)).filter((n) => n !== undefined);
  const available = names.length > 0 ? ` Available tools: ${[...new Set(names)].join(', ')}.` : ' No tools are available in the outgoing Responses request.';
  if (choice === 'required') {
    if (tools.length === 0) throw new UserError(`modelSettings.toolChoice="required" requires at least one available tool in the outgoing Responses request.${available}`);
    return choice;
  }
  if (!names.includes(choice)) throw new UserError(`modelSettings.toolChoice="${choice}" does not match any available tool in the outgoing Responses request.${available}`);
  return { type: 'function', name: choice };
}

/**
 * The request body's JSON text. Its input goes last, as the JSON of each item (kept for the frozen
 * ones): the same body as `JSON.stringify` of the SDK's, in another key order.
 */
export function responsesPayload(request: ModelRequest, model: string, stream: boolean): string {
  const body = responsesBodyWithoutInput(request, model, stream);
  // Settings whose provider data set the input themselves: theirs stands, as in the SDK's body.
  if ('input' in body) {
    inputItems(request.input);
    return JSON.stringify(body);
  }
  const head = JSON.stringify(body);
  return `${head.slice(0, -1)},"input":${inputJson(request.input)}}`;
}

function responsesBodyWithoutInput(request: ModelRequest, model: string, stream: boolean): Json {
  if (request.prompt) throw unsupported('A prompt template');
  const tools: Json[] = request.tools.map((tool) => {
    if (tool.type !== 'function') throw unsupported(`The hosted tool ${tool.name}`);
    if (typeof tool.namespace === 'string' && tool.namespace.trim() !== '') throw unsupported('A namespaced tool');
    if (tool.deferLoading) throw unsupported('A deferred tool');
    return {
      type: 'function',
      name: tool.name,
      description: tool.description,
      parameters: tool.parameters,
      strict: tool.strict,
      ...(tool.allowedCallers ? { allowed_callers: [...tool.allowedCallers] } : {}),
      ...(tool.outputSchema ? { output_schema: tool.outputSchema } : {}),
    };
  });
  for (const handoff of request.handoffs) {
    tools.push({ name: handoff.toolName, description: handoff.toolDescription, parameters: handoff.inputJsonSchema, strict: handoff.strictJsonSchema, type: 'function' });
  }
  const settings = request.modelSettings;
  const { text: providerText, ...providerData } = (settings.providerData ?? {}) as Json;
  if (settings.reasoning) providerData.reasoning = { ...settings.reasoning, ...asRecord(providerData.reasoning) };
  const text = settings.text ? { ...settings.text, ...asRecord(providerText) } : providerText;
  const choice = toolChoice(settings.toolChoice, tools);
  const instructions = typeof request.systemInstructions === 'string' && request.systemInstructions.trim() !== '' ? request.systemInstructions : undefined;
  const body: Json = {
    model,
    instructions,
    include: [],
    tools,
    conversation: request.conversationId,
    ...(request.conversationId ? {} : { previous_response_id: request.previousResponseId }),
    prompt: undefined,
    temperature: settings.temperature,
    top_p: settings.topP,
    truncation: settings.truncation,
    max_output_tokens: settings.maxTokens,
    ...(choice !== undefined ? { tool_choice: choice } : {}),
    stream,
    text: request.outputType === 'text' ? text : { ...asRecord(text), format: request.outputType },
    store: settings.store,
    prompt_cache_retention: settings.promptCacheRetention === 'in-memory' ? 'in_memory' : settings.promptCacheRetention,
    prompt_cache_options: settings.promptCacheOptions,
    context_management: settings.contextManagement?.map((entry) => snakeCased(entry)),
    ...providerData,
  };
  if (!('parallel_tool_calls' in body) && typeof settings.parallelToolCalls === 'boolean' && tools.length > 0) body.parallel_tool_calls = settings.parallelToolCalls;
  body.stream = stream;
  return body;
}
