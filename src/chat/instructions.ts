/**
 * The agent's system instructions for a session: who it is — Pulp's default prompt, or the
 * session's own instructions in its place — then what it can do, the session's file names (at most
 * 50, so a big workspace cannot flood the prompt) and the enabled MCP servers. The tool and file
 * notes follow custom instructions too: without them the model would not know its workspace.
 */
import type { Queryable } from '../db/database.js';
import { KeyedReads } from '../db/keyed-reads.js';
import type { SessionRow } from '../sessions/types.js';

export const MAX_LISTED_FILES = 50;

/** Who the assistant is when a session has no instructions of its own. */
export const DEFAULT_PROMPT = 'You are Pulp, a helpful assistant in a self-hosted chat. Answer clearly and concisely in Markdown.';

export interface InstructionFacts {
  /** The session's own instructions; absent or blank takes `DEFAULT_PROMPT`. */
  custom?: string;
  files: string[];
  moreFiles: boolean;
  mcpServers: string[];
  codeInterpreter: boolean;
}

export function renderInstructions(facts: InstructionFacts): string {
  const custom = facts.custom?.trim() ? facts.custom.trim() : undefined;
  const lines = [
    // Custom instructions stand apart from the notes below, as the user wrote them.
    custom === undefined ? DEFAULT_PROMPT : `${custom}\n`,
    'You work in this session\'s own workspace: `input/` holds the files the user uploaded (read-only for code), `output/` is where you write results.',
    'Use list_directory, read_file, search_files and edit_file to work with files, and generate_document to write a file into output/.',
  ];
  if (facts.codeInterpreter) {
    lines.push(
      'execute_python_code runs Python 3 (numpy, pandas, matplotlib) in a sandbox with no network, with the session folder as working directory: read input/…, write output/…; figures are saved as PNG files in output/.',
    );
  }
  if (facts.mcpServers.length > 0) lines.push(`Tools from these MCP servers are available: ${facts.mcpServers.join(', ')}.`);
  if (facts.files.length > 0) {
    lines.push(`Files in the workspace${facts.moreFiles ? ` (first ${facts.files.length})` : ''}: ${facts.files.join(', ')}.`);
  } else {
    lines.push('The workspace has no files yet.');
  }
  lines.push('Say what you did with tools, and never invent tool results.');
  return lines.join('\n');
}

// The first MAX_LISTED_FILES + 1 files of each session asked for (one more tells there are more).
const listedFiles = new KeyedReads<{ key: string; folder: string; filename: string }>(`
SELECT k.id AS key, f.folder, f.filename FROM unnest($1::text[]) AS k(id)
CROSS JOIN LATERAL (SELECT folder, filename FROM files WHERE session_id = k.id::uuid ORDER BY folder, filename LIMIT ${MAX_LISTED_FILES + 1}) AS f
ORDER BY k.id, f.folder, f.filename`);

/** The instructions of a turn: the file names its start row carries, or read for a row without them. */
export async function sessionInstructions(db: Queryable, session: SessionRow, codeInterpreter: boolean): Promise<string> {
  const files = session.listed_files ?? (await listedFiles.read(db, session.id)).map((r) => `${r.folder}/${r.filename}`);
  return renderInstructions({
    custom: session.instructions,
    files: files.slice(0, MAX_LISTED_FILES),
    moreFiles: files.length > MAX_LISTED_FILES,
    mcpServers: session.mcp_config ?? [],
    codeInterpreter,
  });
}
