/**
 * The WebSocket protocol (docs/protocol.md) as zod schemas: client frames (validated on every frame) and
 * server events (the schemas are the types; the hot path does not re-validate what it builds).
 */
import { z } from 'zod';
import { ReasoningEffortSchema } from '../sessions/schemas.js';
import { unstorableReason } from '../util/storable-text.js';

export const MAX_MESSAGES_PER_FRAME = 20;
export const MAX_MESSAGE_CHARS = 100_000;
/** At most this many files on one message. */
export const MAX_ATTACHMENTS = 10;
/** A file of the session sent with a message, by its workspace path (`input/photo.png`). */
export const AttachmentRefSchema = z.strictObject({ file: z.string().min(1).max(4096) });

export const MessageFrameSchema = z.strictObject({
  type: z.literal('message'),
  messages: z
    .array(
      z.object({
        // Text PostgreSQL cannot store (U+0000, a lone surrogate) is refused here with a clear error,
        // not lost in the turn.
        content: z
          .string()
          .min(1)
          .max(MAX_MESSAGE_CHARS)
          .superRefine((text, ctx) => {
            const reason = unstorableReason(text);
            if (reason !== undefined) ctx.addIssue({ code: 'custom', message: reason });
          }),
      }),
    )
    .min(1)
    .max(MAX_MESSAGES_PER_FRAME),
  model: z.string().min(1).max(200).optional(),
  reasoning_effort: ReasoningEffortSchema.optional(),
  /**
   * The message the new user message follows (edit and resend: the edited message's own
   * `parent_id`, so the two are siblings); null: a new first message; absent: the active leaf.
   */
  parent_id: z.string().min(1).max(100).nullable().optional(),
  /** Files of the session (`input/photo.png`) sent with the last message: images go to the model as images. */
  attachments: z.array(AttachmentRefSchema).max(MAX_ATTACHMENTS).optional(),
});

/** Answer a user message again (or the question of an assistant/tool row): a new sibling answer. */
export const RegenerateFrameSchema = z.strictObject({
  type: z.literal('regenerate'),
  message_id: z.string().min(1).max(100),
  model: z.string().min(1).max(200).optional(),
  reasoning_effort: ReasoningEffortSchema.optional(),
});

/** Sent right after connecting: replay the events of `turn_id` after `after_seq`, then go live. */
export const ResumeFrameSchema = z.strictObject({
  type: z.literal('resume'),
  turn_id: z.string().min(1).max(100),
  after_seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});

/** A person's answer to a tool call waiting for approval (`approve` / `deny`). */
export const DecisionFrameSchema = z.strictObject({
  type: z.enum(['approve', 'deny']),
  tool_call_id: z.string().min(1).max(200),
  reason: z.string().max(2000).optional(),
  /** Also set the session's policy for this tool ("always allow in this chat"). */
  always: z.boolean().optional(),
});

export const ClientFrameSchema = z.discriminatedUnion('type', [
  MessageFrameSchema,
  RegenerateFrameSchema,
  ResumeFrameSchema,
  DecisionFrameSchema.extend({ type: z.literal('approve') }),
  DecisionFrameSchema.extend({ type: z.literal('deny') }),
  z.object({ type: z.literal('interrupt') }),
  z.object({ type: z.literal('ping') }),
]);
export type ClientFrame = z.infer<typeof ClientFrameSchema>;
export type MessageFrame = z.infer<typeof MessageFrameSchema>;
export type RegenerateFrame = z.infer<typeof RegenerateFrameSchema>;
/** A frame that starts a turn. */
export type TurnFrame = MessageFrame | RegenerateFrame;
export type ResumeFrame = z.infer<typeof ResumeFrameSchema>;
export type DecisionFrame = z.infer<typeof DecisionFrameSchema>;

/** `paused`: tool calls wait for approval; the same turn goes on later (src/approvals). */
export const FinishReasonSchema = z.enum(['stop', 'interrupted', 'error', 'max_turns', 'paused']);
export type FinishReason = z.infer<typeof FinishReasonSchema>;

/** The tool card events, shared by tool calls and the summarization card. */
export const FunctionDetectedEventSchema = z.object({ type: z.literal('function_detected'), tool_call_id: z.string(), tool_name: z.string() });
export const FunctionExecutingEventSchema = z.object({
  type: z.literal('function_executing'),
  tool_call_id: z.string(),
  tool_name: z.string(),
  tool_arguments: z.record(z.string(), z.unknown()),
});
export const FunctionCompletedEventSchema = z.object({
  type: z.literal('function_completed'),
  tool_call_id: z.string(),
  tool_name: z.string(),
  tool_result: z.string(),
  tool_success: z.boolean(),
  interrupted: z.boolean().optional(),
});
export const TokenUsageEventSchema = z.object({
  type: z.literal('token_usage'),
  current: z.number(),
  limit: z.number(),
  threshold: z.number(),
  input_tokens: z.number().optional(),
  output_tokens: z.number().optional(),
});

/** The one error shape, in a turn or outside one. */
export const ErrorEventSchema = z.object({
  type: z.literal('error'),
  code: z.string(),
  message: z.string(),
  recoverable: z.boolean(),
  request_id: z.string(),
  /** Seconds until a refused message may be sent again (a per-user limit). */
  retry_after: z.number().int().optional(),
});

/** Events of a turn, before the emitter stamps `type`-independent fields (session_id, turn_id, seq). */
export const TurnEventBodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('assistant_start') }),
  z.object({ type: z.literal('assistant_delta'), content: z.string() }),
  z.object({ type: z.literal('reasoning_delta'), content: z.string() }),
  FunctionDetectedEventSchema,
  z.object({ type: z.literal('function_call_arguments_delta'), tool_call_id: z.string(), delta: z.string() }),
  FunctionExecutingEventSchema,
  FunctionCompletedEventSchema,
  TokenUsageEventSchema,
  z.object({ type: z.literal('stream_interrupted') }),
  z.object({
    type: z.literal('approval_required'),
    tool_call_id: z.string(),
    tool_name: z.string(),
    tool_arguments: z.record(z.string(), z.unknown()),
    expires_at: z.string(),
  }),
  z.object({ type: z.literal('approval_resolved'), tool_call_id: z.string(), decision: z.enum(['approved', 'denied', 'expired', 'interrupted']), by: z.string() }),
  z.object({ type: z.literal('assistant_end'), finish_reason: FinishReasonSchema }),
  ErrorEventSchema,
]);
export type TurnEventBody = z.infer<typeof TurnEventBodySchema>;

/** Session-level events that are not part of a turn. */
export const SessionEventBodySchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('session_updated'), title: z.string().optional() }).catchall(z.unknown()),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('pong') }),
  z.object({ type: z.literal('server_shutdown'), message: z.string() }),
  ErrorEventSchema,
]);
export type SessionEventBody = z.infer<typeof SessionEventBodySchema>;

/** What goes on the wire: every event has `type` and `session_id`; turn events also `turn_id` and `seq`. */
export type ServerEvent = (TurnEventBody | SessionEventBody) & {
  session_id: string;
  turn_id?: string;
  seq?: number;
};

/** Where a session's events go. The local connection registry implements it; a multi-server one can too. */
export interface EventSink {
  /** Sends `event` to every connection of the session with this `sessions.id`. */
  publish(sessionUuid: string, event: ServerEvent): void;
}
