/**
 * Pulp's built-in `fetch` MCP server, run as its own process over stdio
 * (`node --import tsx src/mcp/fetch-server.ts`). One tool, `fetch`: GET a URL and return its
 * text (HTML as markdown), paged with `start_index`/`max_length` so a long page never floods
 * the model's context. Limits: FETCH_MAX_BYTES, FETCH_MAX_REDIRECTS, FETCH_TIMEOUT_MS (env).
 * Only public addresses are fetched; FETCH_ALLOWED_HOSTS (host names, addresses or CIDR ranges,
 * comma-separated) lets an operator open internal hosts on purpose.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { z } from 'zod';
import { VERSION } from '../version.js';
import { parseFetchAllowList, type FetchAllowList } from './fetch-guard.js';
import { DEFAULT_FETCH_LIMITS, FetchPageError, fetchPage, type FetchLimits } from './fetch-page.js';

export const DEFAULT_MAX_LENGTH = 20_000;

function limitFromEnv(name: string, fallback: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

const limits: FetchLimits = {
  maxBytes: limitFromEnv('FETCH_MAX_BYTES', DEFAULT_FETCH_LIMITS.maxBytes),
  maxRedirects: limitFromEnv('FETCH_MAX_REDIRECTS', DEFAULT_FETCH_LIMITS.maxRedirects),
  timeoutMs: limitFromEnv('FETCH_TIMEOUT_MS', DEFAULT_FETCH_LIMITS.timeoutMs),
};

let allow: FetchAllowList;
try {
  allow = parseFetchAllowList(process.env.FETCH_ALLOWED_HOSTS);
} catch (err) {
  // Pulp validates the variable before it starts this process; this guards a hand-started server.
  process.stderr.write(`${(err as Error).message}\n`);
  process.exit(2);
}

const server = new McpServer({ name: 'pulp-fetch', version: VERSION });

server.registerTool(
  'fetch',
  {
    title: 'Fetch a web page',
    description:
      'Fetches a URL with HTTP GET and returns its content as text; HTML pages are turned into markdown. ' +
      'Long pages come in parts: call again with start_index to read on.',
    inputSchema: {
      url: z.string().describe('The http(s) URL to fetch'),
      max_length: z.number().int().min(1).max(100_000).optional().describe(`Characters to return (default ${DEFAULT_MAX_LENGTH})`),
      start_index: z.number().int().min(0).optional().describe('Character offset to start from (default 0)'),
      raw: z.boolean().optional().describe('Return HTML as is instead of converting it'),
    },
  },
  async ({ url, max_length, start_index, raw }, extra) => {
    try {
      const page = await fetchPage(url, extra.signal, limits, { raw: raw === true, allow });
      const start = start_index ?? 0;
      const length = max_length ?? DEFAULT_MAX_LENGTH;
      const part = page.text.slice(start, start + length);
      const notes: string[] = [];
      if (start + length < page.text.length) {
        notes.push(`[Content cut at ${start + length} of ${page.text.length} characters; call fetch with start_index=${start + length} to read on.]`);
      }
      if (page.truncated) notes.push(`[The page was larger than ${limits.maxBytes} bytes; only the start was read.]`);
      if (start > 0 && part === '') notes.push(`[start_index ${start} is past the end (${page.text.length} characters).]`);
      const header = `Contents of ${page.url}${page.title ? ` — ${page.title}` : ''}:`;
      return { content: [{ type: 'text', text: [header, '', part, ...notes].join('\n') }] };
    } catch (err) {
      const message = err instanceof FetchPageError ? err.message : `Fetching failed: ${(err as Error).message}`;
      return { content: [{ type: 'text', text: message }], isError: true };
    }
  },
);

await server.connect(new StdioServerTransport());
// The pool ends stdin to ask for a clean exit.
process.stdin.once('end', () => {
  void server.close().finally(() => process.exit(0));
});
