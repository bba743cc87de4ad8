/**
 * Keeps each session's workspace tools between turns. Building them converts every zod schema to
 * JSON schema (about 4 ms), which would otherwise sit on every turn's path to the first token.
 * Bounded, least recently used first out.
 */
import type { WorkspaceTool } from './workspace-tools.js';

export const TOOL_CACHE_SIZE = 256;

export class SessionToolCache {
  private readonly entries = new Map<string, WorkspaceTool[]>();
  constructor(private readonly maxEntries = TOOL_CACHE_SIZE) {}

  /** The cached tools of `sessionUuid`, built with `build` on a miss. */
  get(sessionUuid: string, build: () => WorkspaceTool[]): WorkspaceTool[] {
    const hit = this.entries.get(sessionUuid);
    if (hit) {
      this.entries.delete(sessionUuid);
      this.entries.set(sessionUuid, hit);
      return hit;
    }
    const tools = build();
    this.entries.set(sessionUuid, tools);
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return tools;
  }

  delete(sessionUuid: string): void {
    this.entries.delete(sessionUuid);
  }

  get size(): number {
    return this.entries.size;
  }
}
