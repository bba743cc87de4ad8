/**
 * ChatGPT's data export (`conversations.json`): an array of conversations, each a `mapping` of
 * nodes `{id, message, parent, children}` and a `current_node`. The tree is kept as a tree;
 * system, hidden and empty nodes are skipped (their children follow the nearest kept ancestor);
 * images, audio and files become a short marker; a call to a tool (a message to a `recipient`
 * other than `all`) and the tool's answer become one tool row; "thoughts" become the reasoning
 * of the answer after them.
 */
import { z } from 'zod';
import { type ImportRow, type SourceConversation, type SourceNode, row, timeOf } from './model.js';
import { ATTACHMENT_MARKER, AUDIO_MARKER, IMAGE_MARKER, parseShape } from './parse-shape.js';

const MessageSchema = z.looseObject({
  author: z.looseObject({ role: z.string(), name: z.string().nullish() }),
  create_time: z.number().nullish(),
  content: z
    .looseObject({
      content_type: z.string(),
      parts: z.array(z.unknown()).nullish(),
      text: z.unknown().optional(),
      language: z.string().nullish(),
      result: z.unknown().optional(),
      thoughts: z.unknown().optional(),
    })
    .nullish(),
  metadata: z.looseObject({ is_visually_hidden_from_conversation: z.boolean().nullish(), model_slug: z.string().nullish() }).nullish(),
  recipient: z.string().nullish(),
});
type Message = z.infer<typeof MessageSchema>;

const NodeSchema = z.looseObject({
  message: MessageSchema.nullish(),
  parent: z.string().nullish(),
});

export const ChatGptConversationSchema = z.looseObject({
  title: z.string().nullish(),
  create_time: z.number().nullish(),
  mapping: z.record(z.string(), z.unknown()),
  current_node: z.string().nullish(),
  default_model_slug: z.string().nullish(),
});

/** Is `value` (one element of the file's array) shaped like a ChatGPT conversation? */
export function looksLikeChatGpt(value: unknown): boolean {
  return typeof value === 'object' && value !== null && 'mapping' in value && typeof (value).mapping === 'object';
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The text of `parts`: strings as they are, null skipped, objects as a marker (or their transcript). */
function partsText(parts: readonly unknown[]): string {
  const out: string[] = [];
  for (const part of parts) {
    if (typeof part === 'string') out.push(part);
    else if (part !== null && typeof part === 'object') {
      const kind = str((part as { content_type?: unknown }).content_type) ?? '';
      const transcript = str((part as { text?: unknown }).text);
      if (kind === 'audio_transcription' && transcript) out.push(transcript);
      else if (kind.includes('image')) out.push(IMAGE_MARKER);
      else if (kind.includes('audio')) out.push(AUDIO_MARKER);
      else out.push(ATTACHMENT_MARKER);
    }
  }
  return out.filter((p) => p.length > 0).join('\n\n');
}

/** The readable text of a message's content, by content type. */
function textOf(message: Message): string {
  const content = message.content;
  if (!content) return '';
  switch (content.content_type) {
    case 'code':
    case 'execution_output':
      return str(content.text) ?? '';
    case 'tether_browsing_display':
      return str(content.result) ?? '';
    case 'tether_quote':
      return [str((content as { title?: unknown }).title), str((content as { url?: unknown }).url), str(content.text)].filter(Boolean).join('\n');
    default:
      return content.parts ? partsText(content.parts) : (str(content.text) ?? '');
  }
}

function thoughtsOf(message: Message): string {
  const thoughts = message.content?.thoughts;
  if (!Array.isArray(thoughts)) return '';
  return thoughts
    .map((t: unknown) => (t && typeof t === 'object' ? [str((t as { summary?: unknown }).summary), str((t as { content?: unknown }).content)].filter(Boolean).join('\n') : ''))
    .filter(Boolean)
    .join('\n\n');
}

const SKIPPED_TYPES = new Set(['reasoning_recap', 'user_editable_context', 'model_editable_context', 'system_error']);

/** Reads element `index` (0-based) of a ChatGPT `conversations.json`. */
export function fromChatGpt(value: unknown, index: number): SourceConversation {
  const label = `conversation ${index + 1}`;
  const conv = parseShape(ChatGptConversationSchema, value, label);
  const createdAt = timeOf(conv.create_time, new Date(), 'seconds');
  const messages = new Map<string, { parent: string | null; message: Message | null }>();
  for (const [id, raw] of Object.entries(conv.mapping)) {
    const node = parseShape(NodeSchema, raw, `${label}, node ${id}`);
    messages.set(id, { parent: node.parent ?? null, message: node.message ?? null });
  }

  const nodes: SourceNode[] = [];
  let calls = 0;
  /** Tool rows by the node of the call, so the tool's answer below it fills in the result. */
  const openCalls = new Map<string, ImportRow>();
  const time = (m: Message | null, fallback: Date) => timeOf(m?.create_time, fallback, 'seconds');

  for (const [id, { parent, message }] of messages) {
    const at = time(message, createdAt);
    const rows: ImportRow[] = [];
    const hidden = message?.metadata?.is_visually_hidden_from_conversation === true;
    const type = message?.content?.content_type ?? '';
    const role = message?.author.role;
    if (message && !hidden && role !== 'system' && !SKIPPED_TYPES.has(type) && type !== 'thoughts') {
      const text = textOf(message);
      const recipient = message.recipient ?? 'all';
      if (role === 'user') {
        if (text.trim()) rows.push(row('user', at, { content: text }));
      } else if (role === 'assistant' && recipient !== 'all') {
        calls += 1;
        const call = row('tool_call', at, {
          toolCallId: `call_import_${calls}`,
          toolName: recipient,
          toolArguments: { input: text },
        });
        openCalls.set(id, call);
        rows.push(call);
      } else if (role === 'assistant') {
        if (text.trim()) rows.push(row('assistant', at, { content: text, reasoning: reasoningAbove(messages, parent) }));
      } else if (role === 'tool') {
        const call = parent === null ? undefined : openCalls.get(parent);
        if (call && call.toolResult === null) {
          call.toolResult = text;
          call.toolSuccess = true;
        } else if (text.trim()) {
          calls += 1;
          rows.push(row('tool_call', at, { toolCallId: `call_import_${calls}`, toolName: message.author.name ?? 'tool', toolArguments: {}, toolResult: text, toolSuccess: true }));
        }
      }
    }
    nodes.push({ id, parentId: parent, rows, createdAt: at });
  }
  // A call whose answer is not in the file still gets a result, so the model sees a whole pair.
  for (const call of openCalls.values()) {
    if (call.toolResult === null) {
      call.toolResult = '[no result in the imported conversation]';
      call.toolSuccess = false;
    }
  }
  return {
    label: conv.title ? `${label} (${conv.title.slice(0, 60)})` : label,
    title: conv.title ?? null,
    named: Boolean(conv.title),
    createdAt,
    nodes,
    currentNodeId: conv.current_node ?? null,
    model: conv.default_model_slug ?? null,
    reasoningEffort: null,
    mcpConfig: null,
    instructions: null,
    context: null,
  };
}

/** The "thoughts" right above an answer (through a reasoning recap), as its reasoning. */
function reasoningAbove(messages: Map<string, { parent: string | null; message: Message | null }>, parent: string | null): string | null {
  const found: string[] = [];
  let at = parent;
  for (let step = 0; at !== null && step < 4; step++) {
    const node = messages.get(at);
    const type = node?.message?.content?.content_type;
    if (type === 'thoughts') found.unshift(thoughtsOf(node!.message!));
    else if (type !== 'reasoning_recap') break;
    at = node?.parent ?? null;
  }
  const text = found.filter(Boolean).join('\n\n');
  return text || null;
}
