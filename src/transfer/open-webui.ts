/**
 * Open WebUI's chat export: one chat `{title, chat: {history: {messages, currentId}}}` or an array
 * of them (its "export all chats"); the inner `chat` object alone is read too. `history.messages`
 * maps ids to `{parentId, role, content, timestamp}`. An answer's `<details type="reasoning">`
 * block becomes its reasoning and `<details type="tool_calls">` blocks become tool rows before
 * its text; attached files and images become a short marker.
 */
import { z } from 'zod';
import { type ImportRow, type SourceConversation, type SourceNode, row, timeOf } from './model.js';
import { ATTACHMENT_MARKER, IMAGE_MARKER, parseShape } from './parse-shape.js';

const MessageSchema = z.looseObject({
  parentId: z.string().nullish(),
  role: z.string(),
  content: z.unknown().optional(),
  timestamp: z.number().nullish(),
  files: z.array(z.unknown()).nullish(),
});

const HistorySchema = z.looseObject({
  messages: z.record(z.string(), z.unknown()),
  currentId: z.string().nullish(),
});

const ChatSchema = z.looseObject({
  title: z.string().nullish(),
  history: HistorySchema,
  models: z.array(z.unknown()).nullish(),
  params: z.looseObject({ system: z.string().nullish() }).nullish(),
  timestamp: z.number().nullish(),
});

/** Is `value` an Open WebUI chat (the export's element or its inner `chat`)? */
export function looksLikeOpenWebUi(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const chat = 'chat' in value ? (value).chat : value;
  return typeof chat === 'object' && chat !== null && 'history' in chat;
}

/** Reads one chat; `index` numbers it in errors. */
export function fromOpenWebUi(value: unknown, index: number): SourceConversation {
  const label = `conversation ${index + 1}`;
  const outer = value as { chat?: unknown; title?: unknown; created_at?: unknown };
  const chat = parseShape(ChatSchema, outer.chat ?? value, outer.chat ? `${label}, chat` : label);
  const title = (typeof outer.title === 'string' ? outer.title : undefined) ?? chat.title ?? null;
  const createdAt = timeOf(outer.created_at ?? chat.timestamp, new Date());
  const model = chat.models?.find((m): m is string => typeof m === 'string') ?? null;

  const nodes: SourceNode[] = [];
  let calls = 0;
  for (const [id, raw] of Object.entries(chat.history.messages)) {
    const m = parseShape(MessageSchema, raw, `${label}, message ${id}`);
    const at = timeOf(m.timestamp, createdAt);
    const rows: ImportRow[] = [];
    const content = typeof m.content === 'string' ? m.content : '';
    const markers = (m.files ?? []).map(fileMarker);
    if (m.role === 'user') {
      const text = [...markers, content].filter((t) => t.trim()).join('\n\n');
      if (text) rows.push(row('user', at, { content: text }));
    } else if (m.role === 'assistant') {
      const { text, reasoning, tools } = splitDetails(content);
      for (const tool of tools) {
        calls += 1;
        rows.push(row('tool_call', at, { toolCallId: tool.id ?? `call_import_${calls}`, toolName: tool.name, toolArguments: tool.arguments, toolResult: tool.result, toolSuccess: true }));
      }
      const answer = [text.trim(), ...markers].filter(Boolean).join('\n\n');
      if (answer || reasoning) rows.push(row('assistant', at, { content: answer, reasoning }));
    }
    nodes.push({ id, parentId: m.parentId ?? null, rows, createdAt: at });
  }
  return {
    label: title ? `${label} (${title.slice(0, 60)})` : label,
    title,
    named: title !== null,
    createdAt,
    nodes,
    currentNodeId: chat.history.currentId ?? null,
    model,
    reasoningEffort: null,
    mcpConfig: null,
    instructions: chat.params?.system ?? null,
    context: null,
  };
}

function fileMarker(file: unknown): string {
  const type = typeof file === 'object' && file !== null ? (file as { type?: unknown }).type : undefined;
  return type === 'image' ? IMAGE_MARKER : ATTACHMENT_MARKER;
}

interface ToolCall {
  id: string | undefined;
  name: string;
  arguments: Record<string, unknown>;
  result: string;
}

const ENTITIES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };
const unescapeHtml = (text: string) => text.replace(/&(?:amp|lt|gt|quot|#39|#x27);/g, (e) => ENTITIES[e] ?? e);

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const match of tag.matchAll(/([a-zA-Z_]+)="([^"]*)"/g)) out[match[1]!] = unescapeHtml(match[2]!);
  return out;
}

function parseJsonObject(text: string | undefined): Record<string, unknown> {
  if (!text) return {};
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'string') return parseJsonObject(value);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : { value };
  } catch {
    return { input: text };
  }
}

/**
 * Takes the `<details type="reasoning">` and `<details type="tool_calls">` blocks out of an answer
 * (a linear scan with indexOf: a hostile text cannot make it slow); other details stay in the text.
 */
export function splitDetails(content: string): { text: string; reasoning: string | null; tools: ToolCall[] } {
  const reasoning: string[] = [];
  const tools: ToolCall[] = [];
  let text = '';
  let from = 0;
  for (;;) {
    const open = content.indexOf('<details', from);
    const tagEnd = open < 0 ? -1 : content.indexOf('>', open);
    const close = tagEnd < 0 ? -1 : content.indexOf('</details>', tagEnd);
    if (close < 0) break;
    const tag = content.slice(open, tagEnd + 1);
    const attrs = attributes(tag);
    const inner = withoutSummary(content.slice(tagEnd + 1, close));
    text += content.slice(from, open);
    if (attrs.type === 'reasoning') {
      reasoning.push(unescapeHtml(inner).replace(/^> ?/gm, '').trim());
    } else if (attrs.type === 'tool_calls') {
      tools.push({ id: attrs.id || undefined, name: attrs.name || 'tool', arguments: parseJsonObject(attrs.arguments), result: attrs.result ?? unescapeHtml(inner).trim() });
    } else {
      text += content.slice(open, close + '</details>'.length);
    }
    from = close + '</details>'.length;
  }
  text += content.slice(from);
  const joined = reasoning.filter(Boolean).join('\n\n');
  return { text, reasoning: joined || null, tools };
}

function withoutSummary(inner: string): string {
  const start = inner.indexOf('<summary>');
  const end = start < 0 ? -1 : inner.indexOf('</summary>', start);
  return end < 0 ? inner : inner.slice(0, start) + inner.slice(end + '</summary>'.length);
}
