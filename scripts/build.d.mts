/** Types of scripts/build.mjs, for the TypeScript that imports it (the tests' global setup). */
export interface BuildResult {
  name: string;
  skipped: boolean;
  ms?: number;
  files?: number;
}

/** Builds the server (dist/) and the web client (web/dist/), each skipped when its stamp is current. */
export function buildAll(options?: { force?: boolean; only?: 'server' | 'web' }): Promise<BuildResult[]>;
