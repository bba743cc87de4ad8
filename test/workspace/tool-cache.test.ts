import { describe, expect, it } from 'vitest';
import { SessionToolCache } from '../../src/workspace/tools/tool-cache.js';
import type { WorkspaceTool } from '../../src/workspace/tools/workspace-tools.js';

const tools = (name: string) => [{ name } as unknown as WorkspaceTool];

describe('the per-session tool cache', () => {
  it('builds a session’s tools once and returns the same tools on later turns', () => {
    const cache = new SessionToolCache(2);
    let builds = 0;
    const first = cache.get('a', () => (builds++, tools('a')));
    expect(cache.get('a', () => (builds++, tools('a')))).toBe(first);
    expect(builds).toBe(1);
  });

  it('drops the least recently used session past its bound, and a deleted session', () => {
    const cache = new SessionToolCache(2);
    const a = cache.get('a', () => tools('a'));
    cache.get('b', () => tools('b'));
    cache.get('a', () => tools('x'));
    cache.get('c', () => tools('c'));
    expect(cache.size).toBe(2);
    expect(cache.get('a', () => tools('new'))).toBe(a);
    let rebuilt = false;
    cache.get('b', () => ((rebuilt = true), tools('b')));
    expect(rebuilt).toBe(true);
    cache.delete('b');
    rebuilt = false;
    cache.get('b', () => ((rebuilt = true), tools('b')));
    expect(rebuilt).toBe(true);
  });
});
