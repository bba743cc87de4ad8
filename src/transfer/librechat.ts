/**
 * LibreChat's conversation export (JSON): `{conversationId, title, messages | messagesTree,
 * recursive, options}`. Messages link to `parentMessageId` (the all-zero id is "no parent"), or,
 * in the recursive form, hold their replies in `children`. An agent answer's `content` parts
 * become rows in order (text, `think` as reasoning, tool calls as tool rows); images and files a
 * short marker. LibreChat has no "current" message: the newest leaf is the active one, as its
 * client shows it. `options.promptPrefix` becomes the session's instructions.
 */
import { z } from 'zod';
import { importError, MAX_DEPTH, MAX_NODES_PER_CONVERSATION, type ImportRow, type SourceConversation, type SourceNode, row, timeOf } from './model.js';
import { ATTACHMENT_MARKER, IMAGE_MARKER, parseShape } from './parse-shape.js';

const NO_PARENT = '00000000-0000-0000-0000-000000000000';

const MessageSchema = z.looseObject({
  messageId: z.string().min(1),
  parentMessageId: z.string().nullish(),
  text: z.string().nullish(),
  content: z.array(z.unknown()).nullish(),
  isCreatedByUser: z.boolean().nullish(),
  createdAt: z.union([z.string(), z.number()]).nullish(),
  error: z.boolean().nullish(),
  unfinished: z.boolean().nullish(),
  files: z.array(z.unknown()).nullish(),
});
type Message = z.infer<typeof MessageSchema>;

const ExportSchema = z.looseObject({
  conversationId: z.string().nullish(),
  title: z.string().nullish(),
  recursive: z.boolean().nullish(),
  messages: z.array(z.unknown()).nullish(),
  messagesTree: z.array(z.unknown()).nullish(),
  options: z.looseObject({ model: z.string().nullish(), promptPrefix: z.string().nullish() }).nullish(),
});

export function looksLikeLibreChat(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && 'conversationId' in value && ('messages' in value || 'messagesTree' in value);
}

/**
 * The messages of the recursive form with their parents, without recursion: a file nested
 * deeper than MAX_DEPTH is refused before anything else reads it.
 */
function flatten(roots: readonly unknown[], label: string): { raw: unknown; parent: string | null; where: string }[] {
  const out: { raw: unknown; parent: string | null; where: string }[] = [];
  const stack = [...roots].reverse().map((raw, i) => ({ raw, parent: null as string | null, depth: 1, where: `message ${roots.length - i}` }));
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (next.depth > MAX_DEPTH) throw importError('VAL_2034', label, `the conversation is deeper than ${MAX_DEPTH} messages`);
    if (out.length >= MAX_NODES_PER_CONVERSATION) throw importError('VAL_2034', label, `it has more than ${MAX_NODES_PER_CONVERSATION} messages`);
    out.push({ raw: next.raw, parent: next.parent, where: next.where });
    const node = next.raw as { messageId?: unknown; children?: unknown };
    const children = typeof node === 'object' && node !== null && Array.isArray(node.children) ? (node.children as unknown[]) : [];
    const id = typeof node?.messageId === 'string' ? node.messageId : null;
    for (let i = children.length - 1; i >= 0; i--) stack.push({ raw: children[i], parent: id, depth: next.depth + 1, where: `${next.where}, reply ${i + 1}` });
  }
  return out;
}

export function fromLibreChat(value: unknown, index: number): SourceConversation {
  const label = `conversation ${index + 1}`;
  const doc = parseShape(ExportSchema, value, label);
  const list = doc.messagesTree ?? doc.messages ?? [];
  const recursive = doc.recursive === true || doc.messagesTree != null || list.some((m) => typeof m === 'object' && m !== null && Array.isArray((m as { children?: unknown }).children));
  const entries = recursive ? flatten(list, label) : list.map((raw, i) => ({ raw, parent: undefined, where: `message ${i + 1}` }));
  const fallback = new Date();
  const nodes: SourceNode[] = [];
  let calls = 0;
  for (const entry of entries) {
    const m = parseShape(MessageSchema, entry.raw, `${label}, ${entry.where}`);
    const at = timeOf(m.createdAt, fallback);
    const declared = m.parentMessageId && m.parentMessageId !== NO_PARENT ? m.parentMessageId : null;
    const parentId = entry.parent === undefined ? declared : entry.parent;
    const rows = rowsOf(m, at, () => `call_import_${++calls}`);
    nodes.push({ id: m.messageId, parentId, rows, createdAt: at });
  }
  const first = nodes.reduce<Date | undefined>((min, n) => (min === undefined || n.createdAt < min ? n.createdAt : min), undefined);
  const title = doc.title ?? null;
  return {
    label: title ? `${label} (${title.slice(0, 60)})` : label,
    title,
    named: title !== null,
    createdAt: first ?? fallback,
    nodes,
    currentNodeId: null,
    model: doc.options?.model ?? null,
    reasoningEffort: null,
    mcpConfig: null,
    instructions: doc.options?.promptPrefix ?? null,
    context: null,
  };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function rowsOf(m: Message, at: Date, nextCallId: () => string): ImportRow[] {
  const markers = (m.files ?? []).map((f) => (typeof f === 'object' && f !== null && str((f as { type?: unknown }).type)?.startsWith('image') ? IMAGE_MARKER : ATTACHMENT_MARKER));
  if (m.isCreatedByUser) {
    const text = [...markers, m.text ?? partsText(m.content ?? [])].filter((t) => t.trim()).join('\n\n');
    return text ? [row('user', at, { content: text })] : [];
  }
  const flags = m.unfinished || m.error ? { partial: true as const, status: m.error ? ('failed' as const) : ('interrupted' as const) } : {};
  if (!m.content || m.content.length === 0) {
    const text = [m.text ?? '', ...markers].filter((t) => t.trim()).join('\n\n');
    return text ? [row('assistant', at, { content: text, metadata: flags })] : [];
  }
  // Agent answers: text and reasoning gather until a tool call ends a segment, as in a Pulp turn.
  const rows: ImportRow[] = [];
  let text: string[] = [];
  let reasoning: string[] = [];
  const flush = () => {
    if (text.length > 0 || reasoning.length > 0) rows.push(row('assistant', at, { content: text.join('\n\n'), reasoning: reasoning.join('\n\n') || null }));
    text = [];
    reasoning = [];
  };
  for (const part of m.content) {
    if (typeof part !== 'object' || part === null) continue;
    const p = part as Record<string, unknown>;
    const type = str(p.type) ?? '';
    if (type === 'text') {
      const value = typeof p.text === 'object' && p.text !== null ? str((p.text as { value?: unknown }).value) : str(p.text);
      if (value) text.push(value);
    } else if (type === 'think') {
      const value = str(p.think);
      if (value) reasoning.push(value);
    } else if (type === 'tool_call') {
      flush();
      const call = (p.tool_call ?? {}) as Record<string, unknown>;
      rows.push(
        row('tool_call', at, {
          toolCallId: str(call.id) ?? nextCallId(),
          toolName: str(call.name) ?? str((call.function as { name?: unknown } | undefined)?.name) ?? 'tool',
          toolArguments: argumentsOf(call.args ?? (call.function as { arguments?: unknown } | undefined)?.arguments),
          toolResult: str(call.output) ?? '',
          toolSuccess: true,
        }),
      );
    } else if (type.startsWith('image')) text.push(IMAGE_MARKER);
    else if (type === 'error') text.push(str(p.error) ?? '[error]');
  }
  text.push(...markers);
  flush();
  if (rows.length > 0 && Object.keys(flags).length > 0) rows[rows.length - 1]!.metadata = rows.at(-1)!.role === 'assistant' ? flags : {};
  return rows;
}

function partsText(parts: readonly unknown[]): string {
  return parts
    .map((p) => (typeof p === 'object' && p !== null && (p as { type?: unknown }).type === 'text' ? (str((p as { text?: unknown }).text) ?? '') : ''))
    .filter(Boolean)
    .join('\n\n');
}

function argumentsOf(args: unknown): Record<string, unknown> {
  if (typeof args === 'object' && args !== null && !Array.isArray(args)) return args as Record<string, unknown>;
  if (typeof args !== 'string' || args === '') return {};
  try {
    const parsed: unknown = JSON.parse(args);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : { input: args };
  } catch {
    return { input: args };
  }
}
