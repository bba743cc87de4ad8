/**
 * A session's active path as Markdown for reading: a heading per speaker, reasoning as a quote,
 * tool calls with their arguments and result in fenced blocks (fences longer than any backtick
 * run inside, so no text can end them early).
 */
import type { TreeRow } from './session-tree.js';

/** A fence of backticks longer than the longest run in `text` (at least three). */
function fence(text: string): string {
  let longest = 0;
  for (const run of text.match(/`+/g) ?? []) longest = Math.max(longest, run.length);
  return '`'.repeat(Math.max(3, longest + 1));
}

function block(text: string, lang = ''): string {
  const f = fence(text);
  return `${f}${lang}\n${text}\n${f}`;
}

function toolSection(r: TreeRow): string {
  const parts = [`### Tool: ${(r.tool_name ?? 'tool').replace(/[\r\n]+/g, ' ')}`];
  parts.push(block(JSON.stringify(r.tool_arguments ?? {}, null, 2), 'json'));
  if (r.tool_result !== null) parts.push(`Result${r.tool_success === false ? ' (failed)' : ''}:`, block(r.tool_result));
  return parts.join('\n\n');
}

export function toMarkdown(title: string | null, path: readonly TreeRow[], exportedAt: Date): string {
  const out = [`# ${(title ?? 'Untitled chat').replace(/[\r\n]+/g, ' ')}`, `_Exported from Pulp on ${exportedAt.toISOString()}._`];
  for (const r of path) {
    if (r.role === 'tool_call') {
      out.push(toolSection(r));
      continue;
    }
    const speaker = r.role === 'user' ? 'User' : 'Assistant';
    const section = [`## ${speaker}`];
    if (r.reasoning) section.push(r.reasoning.split('\n').map((l) => `> ${l}`).join('\n'));
    if (r.content) section.push(r.content);
    if (r.metadata?.partial) section.push('_(This answer was cut short.)_');
    out.push(section.join('\n\n'));
  }
  return `${out.join('\n\n')}\n`;
}
