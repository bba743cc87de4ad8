/**
 * Turns MCP tools into @openai/agents function tools. The JSON schema is passed through
 * (`strict: false`), the SDK's cancellation signal reaches the MCP request, and every failure —
 * busy pool, timeout, dead server, a tool's own error — comes back to the model as a JSON error
 * result (`{"error": {"code": "EXT_7020", "message"}}`), so the turn goes on.
 */
import { tool, type FunctionTool } from '@openai/agents';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { AppError } from '../errors/app-error.js';

/** Longest tool result handed to the model; the rest is cut with a note. */
export const MAX_RESULT_CHARS = 100_000;

export const ToolErrorResultSchema = z.object({
  error: z.object({ code: z.string(), message: z.string() }),
});
export type ToolErrorResult = z.infer<typeof ToolErrorResultSchema>;

/** The JSON string a failed MCP tool call returns to the model. */
export function toolErrorResult(code: string, message: string): string {
  return JSON.stringify({ error: { code, message } } satisfies ToolErrorResult);
}

/** The error of a tool output string, or null when the call succeeded (for `tool_success`). */
export function parseToolError(output: unknown): ToolErrorResult['error'] | null {
  if (typeof output !== 'string' || !output.startsWith('{"error"')) return null;
  try {
    const parsed = ToolErrorResultSchema.safeParse(JSON.parse(output));
    return parsed.success ? parsed.data.error : null;
  } catch {
    return null;
  }
}

/** Text of an MCP result: text parts as is; binary parts named but never inlined into the context. */
export function resultText(result: CallToolResult): string {
  const parts = result.content.map((part) => {
    switch (part.type) {
      case 'text':
        return part.text;
      case 'image':
      case 'audio':
        return `[${part.type} ${part.mimeType}, ${Math.round((part.data.length * 3) / 4)} bytes, not shown]`;
      case 'resource':
        return 'text' in part.resource ? part.resource.text : `[resource ${part.resource.uri}]`;
      case 'resource_link':
        return `[resource link ${part.name}: ${part.uri}]`;
      default:
        return '';
    }
  });
  let text = parts.filter((p) => p !== '').join('\n');
  if (text === '' && result.structuredContent !== undefined) text = JSON.stringify(result.structuredContent);
  if (text.length > MAX_RESULT_CHARS) {
    text = `${text.slice(0, MAX_RESULT_CHARS)}\n[result cut at ${MAX_RESULT_CHARS} of ${text.length} characters]`;
  }
  return text;
}

/** Calls one MCP tool; throws AppError('EXT_7020') on failure, or the signal's reason when aborted. */
export type McpToolCaller = (server: string, tool: string, args: Record<string, unknown>, signal?: AbortSignal) => Promise<CallToolResult>;

type NonStrictParameters = Extract<Parameters<typeof tool>[0], { strict: false }>['parameters'];

function parametersOf(mcpTool: Tool): NonStrictParameters {
  const schema = mcpTool.inputSchema;
  // MCP schemas are plain JSON Schema objects; non-strict tools take them as they are.
  return {
    ...schema,
    type: 'object',
    properties: schema.properties ?? {},
    required: schema.required ?? [],
    additionalProperties: true,
  } as NonStrictParameters;
}

/** One agent tool for `mcpTool` of `server`, exposed to the model as `exposedName`. */
export function toFunctionTool(server: string, mcpTool: Tool, exposedName: string, call: McpToolCaller): FunctionTool {
  const description = (mcpTool.description ?? mcpTool.title ?? `Tool ${mcpTool.name} of MCP server ${server}.`).slice(0, 4_000);
  return tool({
    name: exposedName,
    description,
    parameters: parametersOf(mcpTool),
    strict: false,
    // Failures are formatted by execute itself; anything else escaping is a bug worth surfacing.
    errorFunction: null,
    execute: async (input, _context, details) => {
      const signal = details?.signal;
      const args = typeof input === 'object' && input !== null && !Array.isArray(input) ? (input as Record<string, unknown>) : {};
      try {
        const result = await call(server, mcpTool.name, args, signal);
        const text = resultText(result);
        return result.isError ? toolErrorResult('EXT_7020', text || `MCP tool ${mcpTool.name} failed.`) : text;
      } catch (err) {
        // A cancelled turn must look cancelled to the SDK, not like a tool failure.
        if (signal?.aborted) throw signal.reason;
        if (err instanceof AppError) return toolErrorResult(err.code, err.message);
        return toolErrorResult('EXT_7020', `MCP tool ${mcpTool.name} of server ${server} failed.`);
      }
    },
  }) as FunctionTool;
}
