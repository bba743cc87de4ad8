/**
 * The built-in tools as @openai/agents function tools: list_directory, read_file,
 * search_files, edit_file, generate_document and (when the sandbox works here) execute_python_code.
 * Results are JSON strings; failures are JSON error results the model can read; only a cancelled
 * turn (the SDK's `details.signal` aborted) throws.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { tool, type FunctionTool } from '@openai/agents';
import { z } from 'zod';
import type { Queryable } from '../../db/database.js';
import { mediaTypeFor } from '../content-type.js';
import { syncFolderRows } from '../files-table.js';
import { WorkspaceJail } from '../jail.js';
import { SandboxBusyError, SandboxUnavailableError, type PythonSandbox } from '../sandbox/sandbox.js';
import { snapshotFiles } from '../snapshot.js';
import { editFile, generateDocument, listDirectory, readFile, searchFiles, type FileToolContext, type SessionDocumentTexts } from './file-tools.js';
import { errorResult, invalidArgumentsResult, okResult, runTool } from './tool-result.js';

export interface WorkspaceToolsOptions {
  /** The session directory (`DATA_DIR/sessions/{session_id}`). */
  root: string;
  /** `sessions.id` (uuid), for the `files` rows. */
  sessionUuid: string;
  /** The session's user (`users.id`): code runs count against this user's share of the sandbox slots. */
  owner?: string;
  db: Queryable;
  /** Omit (or pass one whose `available()` is false) and execute_python_code is not offered. */
  sandbox: Pick<PythonSandbox, 'run'> | undefined;
  /** Per-run limits (`CODE_INTERPRETER_TIMEOUT_S`, `CODE_INTERPRETER_MEMORY_MB`); the sandbox's defaults otherwise. */
  codeTimeoutMs?: number;
  codeMemoryMb?: number;
  /** The session's converted documents and knowledge search (src/documents); without it read_file reads text files only and search_documents is not offered. */
  documents?: SessionDocuments;
}

/** What the tools need of src/documents, bound to one session. */
export interface SessionDocuments extends SessionDocumentTexts {
  search(query: string, limit: number): Promise<unknown[]>;
}

// `nullish`: strict tool schemas make optional fields required-but-nullable, so models send null.
const ListParams = z.object({ path: z.string().nullish().describe('Folder relative to the session root; "." (default), "input", "output", ...') });
const ReadParams = z.object({
  path: z.string().describe('File relative to the session root, e.g. "input/data.csv"'),
  head: z.number().int().min(1).nullish().describe('Only the first N lines'),
  tail: z.number().int().min(1).nullish().describe('Only the last N lines'),
});
const SearchParams = z.object({
  pattern: z.string().describe('Glob such as "*.csv" (any depth) or "output/**/*.png"'),
  path: z.string().nullish().describe('Folder to search, relative to the session root (default ".")'),
  max_results: z.number().int().min(1).max(1000).nullish().describe('Default 100'),
  contains: z
    .string()
    .nullish()
    .describe('Text to find inside the matching files (case-insensitive); each match is then "path:line: text", with "(p. N)" for a PDF page'),
});
const EditParams = z.object({
  path: z.string().describe('File relative to the session root'),
  edits: z
    .array(z.object({ old_text: z.string().describe('Exact text to replace (must match once)'), new_text: z.string() }))
    .min(1)
    .max(100),
});
const GenerateParams = z.object({
  filename: z.string().describe('Name inside output/, e.g. "report.md" or "notes/summary.txt"'),
  content: z.string(),
});
const SearchDocumentsParams = z.object({
  query: z.string().min(1).max(2000).describe('What to look for, in words like those the documents would use'),
  max_results: z.number().int().min(1).max(20).nullish().describe('Default 8'),
});
const PythonParams = z.object({ code: z.string().describe('Python 3 source; the working directory holds input/ (read-only) and output/') });

/** One built-in tool as the SDK takes it (an `Agent`'s `tools` accepts these). */
export type WorkspaceTool = FunctionTool<unknown, z.ZodObject, string>;

const errorFunction = (_context: unknown, error: unknown) => invalidArgumentsResult(error);

interface SessionScope {
  options: WorkspaceToolsOptions;
  jail: WorkspaceJail;
  ctx: FileToolContext;
}

/**
 * The tool definitions are built once per toolset (turning each zod schema into JSON schema costs
 * about 4 ms); each session gets copies whose calls run with that session's scope.
 */
const sessionScope = new AsyncLocalStorage<SessionScope>();

function scope(): SessionScope {
  const current = sessionScope.getStore();
  if (!current) throw new Error('workspace tool called outside its session scope');
  return current;
}

function buildTools(withPython: boolean, withDocuments: boolean): WorkspaceTool[] {
  const ctxOf = () => scope().ctx;
  const tools: WorkspaceTool[] = [
    tool({
      name: 'list_directory',
      description: 'List files and folders in the session workspace (input/ holds uploads, output/ what you write). Paths are relative to the session root.',
      parameters: ListParams,
      errorFunction,
      execute: (args, _run, details) =>
        runTool(details?.signal, args.path ?? '.', async () => okResult(await listDirectory(ctxOf(), args.path ?? '.'))),
    }),
    tool({
      name: 'read_file',
      description:
        'Read a text file (CSV, JSON, HTML, Markdown, code...) from the workspace. Long files are cut at 10 000 tokens; use head/tail for other parts.',
      parameters: ReadParams,
      errorFunction,
      execute: (args, _run, details) => runTool(details?.signal, args.path, async () => okResult(await readFile(ctxOf(), args.path, args.head, args.tail))),
    }),
    tool({
      name: 'search_files',
      description:
        'Find files by glob pattern in the workspace, or with `contains` the lines of those files that contain a text (PDF, Word, spreadsheet, slide and EPUB files are searched in their text). Returns relative paths (or matching lines) and a truncated flag.',
      parameters: SearchParams,
      errorFunction,
      execute: (args, _run, details) =>
        runTool(details?.signal, args.path ?? '.', async () => okResult(await searchFiles(ctxOf(), args.pattern, args.path ?? '.', args.max_results ?? 100, args.contains))),
    }),
    tool({
      name: 'edit_file',
      description:
        'Edit a text file: each edit replaces one exact occurrence of old_text with new_text (whitespace differences are tolerated if there is no exact match). All edits apply or none. Returns a unified diff.',
      parameters: EditParams,
      errorFunction,
      execute: (args, _run, details) => runTool(details?.signal, args.path, async () => okResult(await editFile(ctxOf(), args.path, args.edits))),
    }),
    tool({
      name: 'generate_document',
      description: 'Write a document (Markdown, CSV, HTML, JSON, text...) to output/{filename}, replacing any file of that name. The user can download it.',
      parameters: GenerateParams,
      errorFunction,
      execute: (args, _run, details) =>
        runTool(details?.signal, `output/${args.filename}`, async () => okResult(await generateDocument(ctxOf(), args.filename, args.content))),
    }),
  ];

  if (withDocuments) {
    tools.push(
      tool({
        name: 'search_documents',
        description:
          "Search the text of the user's uploaded documents (PDF, Word, spreadsheets, slides, EPUB, HTML, Markdown...) and of the document libraries attached to this chat. " +
          'Returns the best passages with their file, page or section. Base answers on them and cite every fact right after it as [file p. N] (or [file § section] when there is no page), using the file as returned.',
        parameters: SearchDocumentsParams,
        errorFunction,
        execute: (args, _run, details) =>
          runTool(details?.signal, 'documents', async () => {
            const documents = scope().options.documents;
            if (!documents) return errorResult('EXT_7001', 'Document search is not available.');
            const results = await documents.search(args.query, args.max_results ?? 8);
            return okResult({ query: args.query, results, count: results.length });
          }),
      }),
    );
  }

  if (withPython) {
    tools.push(
      tool({
        name: 'execute_python_code',
        description:
          'Run Python 3 (numpy, pandas, matplotlib) in a fresh sandbox without network. The working directory holds input/ (uploads, read-only) and output/ (write results here). Open matplotlib figures are saved as PNG in output/. Returns stdout, stderr, exit_code and the files written.',
        parameters: PythonParams,
        errorFunction,
        execute: (args, _run, details) =>
          runTool(details?.signal, 'output', async () => {
            const { options, jail } = scope();
            const sandbox = options.sandbox;
            if (!sandbox) return errorResult('EXT_7001', 'The code interpreter is not available.');
            let result;
            try {
              result = await sandbox.run(args.code, {
                root: options.root,
                ...(options.owner !== undefined ? { owner: options.owner } : {}),
                ...(details?.signal ? { signal: details.signal } : {}),
                ...(options.codeTimeoutMs !== undefined ? { timeoutMs: options.codeTimeoutMs } : {}),
                ...(options.codeMemoryMb !== undefined ? { memoryMb: options.codeMemoryMb } : {}),
              });
            } catch (err) {
              if (details?.signal?.aborted) throw err;
              if (err instanceof SandboxUnavailableError || err instanceof SandboxBusyError) return errorResult('EXT_7001', err.message);
              if (err instanceof RangeError) return errorResult('VAL_2001', err.message);
              throw err;
            }
            const output = await jail.resolve('output');
            await syncFolderRows(options.db, options.sessionUuid, 'output', await snapshotFiles(output.real), mediaTypeFor);
            // Image bytes never go to the model: it sees names and sizes, the user downloads them.
            return JSON.stringify(result);
          }),
      }),
    );
  }
  return tools;
}

/** Gives each session its tools; `execute_python_code` is left out without a sandbox. */
export type WorkspaceToolset = (options: WorkspaceToolsOptions) => WorkspaceTool[];

/**
 * A toolset that builds the definitions on first use and shares them with every later session.
 * The server makes one per app; a process-wide cache would also be shared by every test file of
 * one worker, so only the first file to build it would be seen running that code.
 */
export function workspaceToolset(): WorkspaceToolset {
  const built = new Map<string, WorkspaceTool[]>();
  return (options) => {
    const key = `${options.sandbox ? 'python' : ''}/${options.documents ? 'documents' : ''}`;
    const base = built.get(key) ?? buildTools(options.sandbox !== undefined, options.documents !== undefined);
    built.set(key, base);
    const jail = new WorkspaceJail(options.root);
    const session: SessionScope = { options, jail, ctx: { jail, db: options.db, sessionUuid: options.sessionUuid, documents: options.documents } };
    return base.map((t) => ({ ...t, invoke: (runContext, input, details) => sessionScope.run(session, () => t.invoke(runContext, input, details)) }));
  };
}

/** The tools of one session, from definitions built for it alone. */
export function createWorkspaceTools(options: WorkspaceToolsOptions): WorkspaceTool[] {
  return workspaceToolset()(options);
}
