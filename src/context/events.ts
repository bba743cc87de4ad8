/**
 * The protocol events a summarization emits: the `summarize_conversation` tool
 * card and the `token_usage` after it, built from the chat protocol's own schemas. Plain
 * `{ type, ...fields }`; the chat layer adds `session_id`, `turn_id` and `seq` when it sends them.
 */
import { z } from 'zod';
import {
  FunctionCompletedEventSchema,
  FunctionDetectedEventSchema,
  FunctionExecutingEventSchema,
  TokenUsageEventSchema,
} from '../chat/events.js';

export const SUMMARY_TOOL_NAME = 'summarize_conversation';

export const ContextEventSchema = z.discriminatedUnion('type', [
  FunctionDetectedEventSchema,
  FunctionExecutingEventSchema,
  FunctionCompletedEventSchema,
  TokenUsageEventSchema,
]);
export type ContextEvent = z.infer<typeof ContextEventSchema>;

/** Receives the events in order; it must not throw (the chat layer queues them for sending). */
export type EmitContextEvent = (event: ContextEvent) => void;
