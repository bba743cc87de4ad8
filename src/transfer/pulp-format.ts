/**
 * Pulp's own lossless file (`format: "pulp.session"`, `version: 1`): the whole tree with every
 * row's columns, the active leaf, the session's settings and the model context items with the
 * row each hangs on — so an import gives back what the user saw and what the model sees.
 */
import type { AgentInputItem } from '@openai/agents';
import { z } from 'zod';
import { ApprovalRecordSchema } from '../chat/row-flags.js';
import type { SessionRow } from '../sessions/types.js';
import { importError, MAX_CONTEXT_ITEMS, row, type SourceContextItem, type SourceConversation, type SourceNode } from './model.js';
import type { ContextRow, SessionTree } from './session-tree.js';

export const PULP_FORMAT = 'pulp.session';
export const PULP_VERSION = 1;

const Text = z.string();
const Id = z.string().min(1).max(200);
const Time = z.iso.datetime({ offset: true });

const RowFlagsSchema = z
  .object({
    partial: z.literal(true).optional(),
    status: z.enum(['interrupted', 'failed']).nullable().optional(),
    interrupted: z.literal(true).optional(),
    // What a user row carried and how a tool call was decided: kept so a round trip loses neither.
    attachments: z
      .array(z.object({ file: z.string().min(1).max(1000), content_type: z.string().max(200), size: z.number().int().min(0) }).strip())
      .max(10)
      .optional(),
    approval: ApprovalRecordSchema.strip().optional(),
  })
  .strip();

const PulpMessageSchema = z.object({
  id: Id,
  parent_id: Id.nullable(),
  role: z.enum(['user', 'assistant', 'tool_call']),
  content: Text.nullable(),
  reasoning: Text.nullable().default(null),
  metadata: RowFlagsSchema.default({}),
  tool_call_id: z.string().max(200).nullable().default(null),
  tool_name: z.string().max(200).nullable().default(null),
  tool_arguments: z.record(z.string(), z.unknown()).nullable().default(null),
  tool_result: Text.nullable().default(null),
  tool_success: z.boolean().nullable().default(null),
  created_at: Time,
});

/** The item types a turn stores; anything else in a file is refused rather than sent to a model. */
const ContextItemSchema = z.looseObject({
  type: z.enum(['message', 'function_call', 'function_call_result', 'reasoning']),
});

const PulpContextSchema = z.object({
  message_id: Id.nullable(),
  item: ContextItemSchema,
  summary_through: z.number().int().min(1).nullable().default(null),
});

export const PulpDocumentSchema = z.object({
  format: z.literal(PULP_FORMAT),
  version: z.literal(PULP_VERSION),
  exported_at: Time.optional(),
  session: z.object({
    title: z.string().nullable(),
    is_named: z.boolean().default(false),
    model: z.string().max(200).nullable().default(null),
    reasoning_effort: z.string().max(20).nullable().default(null),
    mcp_config: z.array(z.string().max(100)).max(50).nullable().default(null),
    instructions: z.string().nullable().default(null),
    created_at: Time,
    active_leaf_id: Id.nullable(),
  }),
  messages: z.array(PulpMessageSchema),
  context: z.array(PulpContextSchema).max(MAX_CONTEXT_ITEMS).nullable().default(null),
});
export type PulpDocument = z.infer<typeof PulpDocumentSchema>;

/** The export of one session. `instructions` is null where sessions have none. */
export function toPulpDocument(session: SessionRow, instructions: string | null, tree: SessionTree, context: ContextRow[], now: Date): PulpDocument {
  const iso = (d: Date) => (d instanceof Date ? d : new Date(d)).toISOString();
  // Items are numbered 1..n in seq order; a summary's `through` becomes the count of items up to it.
  const through = (seq: number) => context.filter((c) => c.seq <= seq).length;
  return {
    format: PULP_FORMAT,
    version: PULP_VERSION,
    exported_at: now.toISOString(),
    session: {
      title: session.title,
      is_named: session.is_named,
      model: session.model,
      reasoning_effort: session.reasoning_effort,
      mcp_config: session.mcp_config,
      instructions,
      created_at: iso(session.created_at),
      active_leaf_id: tree.activeLeafId,
    },
    messages: tree.rows.map((r) => ({
      id: r.id,
      parent_id: r.parent_id,
      role: r.role,
      content: r.content,
      reasoning: r.reasoning,
      metadata: RowFlagsSchema.parse(r.metadata ?? {}),
      tool_call_id: r.tool_call_id,
      tool_name: r.tool_name,
      tool_arguments: r.tool_arguments,
      tool_result: r.tool_result,
      tool_success: r.tool_success,
      created_at: iso(r.created_at),
    })),
    context: context.map((c) => ({
      message_id: c.message_id,
      item: c.item as z.infer<typeof ContextItemSchema>,
      summary_through: c.summary_through_seq === null ? null : Math.max(1, through(c.summary_through_seq)),
    })),
  };
}

/** Reads a Pulp file (already checked against `PulpDocumentSchema`) as one conversation. */
export function fromPulpDocument(doc: PulpDocument, label: string): SourceConversation {
  const nodes: SourceNode[] = doc.messages.map((m) => {
    const createdAt = new Date(m.created_at);
    return {
      id: m.id,
      parentId: m.parent_id,
      createdAt,
      rows: [
        row(m.role, createdAt, {
          content: m.content,
          reasoning: m.reasoning,
          metadata: m.metadata,
          toolCallId: m.tool_call_id,
          toolName: m.tool_name,
          toolArguments: m.tool_arguments,
          toolResult: m.tool_result,
          toolSuccess: m.tool_success,
        }),
      ],
    };
  });
  const ids = new Set(doc.messages.map((m) => m.id));
  let context: SourceContextItem[] | null = null;
  if (doc.context !== null) {
    context = doc.context.map((c, i) => {
      if (c.message_id !== null && !ids.has(c.message_id)) {
        throw importError('VAL_2033', `${label}, context item ${i + 1}`, `message ${c.message_id} does not exist`);
      }
      return {
        item: c.item as unknown as AgentInputItem,
        at: c.message_id === null ? null : { nodeId: c.message_id, row: 0 },
        summaryThrough: c.summary_through === null ? null : Math.min(c.summary_through, doc.context!.length),
      };
    });
  }
  return {
    label,
    title: doc.session.title,
    named: doc.session.is_named,
    createdAt: new Date(doc.session.created_at),
    nodes,
    currentNodeId: doc.session.active_leaf_id,
    model: doc.session.model,
    reasoningEffort: doc.session.reasoning_effort,
    mcpConfig: doc.session.mcp_config,
    instructions: doc.session.instructions,
    context,
    exact: true,
  };
}
