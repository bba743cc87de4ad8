import { describe, expect, it } from 'vitest';
import { assignToolNames } from '../../src/mcp/tool-names.js';

describe('names of MCP tools as the model sees them', () => {
  it('tools keep their names when nothing clashes', () => {
    const names = assignToolNames([{ server: 'a', tools: ['search', 'lookup'] }]);
    expect([...names.get('a')!]).toEqual([
      ['search', 'search'],
      ['lookup', 'lookup'],
    ]);
  });

  it('a clash between servers prefixes every clashing tool with its server, whatever the order', () => {
    const one = assignToolNames([
      { server: 'a', tools: ['search'] },
      { server: 'b', tools: ['search', 'only_b'] },
    ]);
    const two = assignToolNames([
      { server: 'b', tools: ['search', 'only_b'] },
      { server: 'a', tools: ['search'] },
    ]);
    expect(one.get('a')?.get('search')).toBe('a__search');
    expect(one.get('b')?.get('search')).toBe('b__search');
    expect(one.get('b')?.get('only_b')).toBe('only_b');
    expect(two.get('a')?.get('search')).toBe('a__search');
  });

  it('a tool named like a built-in tool never shadows it', () => {
    const names = assignToolNames([{ server: 'fs', tools: ['read_file', 'execute_python_code'] }]);
    expect([...names.get('fs')!.values()]).toEqual(['fs__read_file', 'fs__execute_python_code']);
  });

  it('names are reduced to the characters and length model APIs accept, and stay unique', () => {
    const long = 'x'.repeat(80);
    const names = assignToolNames([{ server: 's', tools: ['git.status', 'git/status', long, `${long}y`] }]);
    const exposed = [...names.get('s')!.values()];
    expect(exposed[0]).toBe('git_status');
    expect(exposed[1]).toBe('git_status_2');
    expect(exposed.every((n) => /^[A-Za-z0-9_-]{1,64}$/.test(n))).toBe(true);
    expect(new Set(exposed).size).toBe(4);
  });
});
