/** Remembers every route's pattern so an unmatched request can tell 405 (path exists) from 404. */

interface KnownRoute {
  pattern: RegExp;
  methods: Set<string>;
}

function toPattern(url: string): RegExp {
  const escaped = url
    .split('/')
    .map((part) => {
      if (part === '*') return '.*';
      if (part.startsWith(':')) return '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('/');
  return new RegExp(`^${escaped}/?$`);
}

export class RouteTable {
  private readonly routes = new Map<string, KnownRoute>();

  add(url: string, methods: string | string[]): void {
    const known = this.routes.get(url) ?? { pattern: toPattern(url), methods: new Set<string>() };
    for (const m of [methods].flat()) known.methods.add(m.toUpperCase());
    this.routes.set(url, known);
  }

  /** The methods allowed on `path`, or an empty list when no route matches it. */
  allowedMethods(path: string): string[] {
    const allowed = new Set<string>();
    for (const route of this.routes.values()) {
      if (route.pattern.test(path)) for (const m of route.methods) allowed.add(m);
    }
    return [...allowed].sort();
  }
}
