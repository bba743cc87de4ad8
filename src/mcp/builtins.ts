/**
 * The built-in MCP servers, available with no configuration file: `sequential-thinking` (the npm
 * package, started from node_modules with this Node binary — never downloaded at run time) and
 * `fetch` (Pulp's own server in `fetch-server.ts`, started with this same Node binary: the compiled
 * `fetch-server.js` when Pulp runs from `dist/`, the TypeScript file through tsx's loader when it runs
 * from source in development and tests).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { ServerDefinition } from './config.js';

const require = createRequire(import.meta.url);

/** Absolute path of a package's bin script, resolved from node_modules. */
export function resolvePackageBin(pkg: string, bin?: string): string {
  const manifestPath = require.resolve(`${pkg}/package.json`);
  const manifest = require(manifestPath) as { bin?: string | Record<string, string> };
  const entry =
    typeof manifest.bin === 'string' ? manifest.bin : bin ? manifest.bin?.[bin] : Object.values(manifest.bin ?? {})[0];
  if (!entry) throw new Error(`package ${pkg} has no bin script`);
  return path.resolve(path.dirname(manifestPath), entry);
}

/** Whether this module runs from source (through tsx) rather than from the compiled `dist/`. */
const RUNNING_FROM_SOURCE = import.meta.url.endsWith('.ts');

export const FETCH_SERVER_PATH = fileURLToPath(new URL(RUNNING_FROM_SOURCE ? './fetch-server.ts' : './fetch-server.js', import.meta.url));

/**
 * Node arguments that run one of Pulp's own modules as a child process. From source the child
 * loads tsx (as a file URL, so it resolves whatever the child's working directory is); compiled,
 * it runs the JavaScript directly.
 */
export function ownModuleArgs(modulePath: string): string[] {
  return RUNNING_FROM_SOURCE ? ['--import', pathToFileURL(require.resolve('tsx')).href, modulePath] : [modulePath];
}

export interface BuiltinOptions {
  /** `FETCH_ALLOWED_HOSTS` for the fetch server: the internal hosts an operator allowed. */
  fetchAllowedHosts?: string | undefined;
}

export function builtinServers(options: BuiltinOptions = {}): ServerDefinition[] {
  return [
    {
      name: 'sequential-thinking',
      description: 'Step-by-step thinking: lets the agent plan, revise and branch its reasoning.',
      enabled: true,
      builtin: true,
      // Thinking out loud changes nothing outside the turn: it never asks (src/approvals).
      approval: { approval: 'auto', tools: {} },
      transport: {
        kind: 'stdio',
        command: process.execPath,
        args: [resolvePackageBin('@modelcontextprotocol/server-sequential-thinking')],
        env: {},
      },
    },
    {
      name: 'fetch',
      description: 'Fetches a web page (HTTP GET) and returns it as readable text or markdown.',
      enabled: true,
      builtin: true,
      transport: {
        kind: 'stdio',
        command: process.execPath,
        args: ownModuleArgs(FETCH_SERVER_PATH),
        // The child gets an allow-listed environment, so the setting is passed on by name.
        env: options.fetchAllowedHosts ? { FETCH_ALLOWED_HOSTS: options.fetchAllowedHosts } : {},
      },
    },
  ];
}
