/**
 * The protocol events a summarization emits (SPEC §5, §7.3), as zod schemas: the tool card of
 * `summarize_conversation` and the `token_usage` that follows. Plain `{ type, ...fields }`; the
 * chat layer adds `session_id`, `turn_id` and `seq` when it sends them.
 */
import { z } from 'zod';

export const SUMMARY_TOOL_NAME = 'summarize_conversation';

export const FunctionDetectedEventSchema = z.object({
  type: z.literal('function_detected'),
  tool_call_id: z.string(),
  tool_name: z.string(),
});

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
  current: z.number().int(),
  limit: z.number().int(),
  threshold: z.number().int(),
});

export const ContextEventSchema = z.discriminatedUnion('type', [
  FunctionDetectedEventSchema,
  FunctionExecutingEventSchema,
  FunctionCompletedEventSchema,
  TokenUsageEventSchema,
]);
export type ContextEvent = z.infer<typeof ContextEventSchema>;

/** Receives the events in order; it must not throw (the chat layer queues them for sending). */
export type EmitContextEvent = (event: ContextEvent) => void;
