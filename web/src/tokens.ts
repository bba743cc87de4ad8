/** Where the jwt-mode tokens live: localStorage, so a reload keeps the user logged in. */
import type { TokenPair } from './protocol.js';

const KEY = 'pulp.tokens';

export class TokenStore {
  get(): TokenPair | null {
    try {
      const raw = localStorage.getItem(KEY);
      if (!raw) return null;
      const parsed = JSON.parse(raw) as Partial<TokenPair>;
      return typeof parsed.access_token === 'string' && typeof parsed.refresh_token === 'string'
        ? { access_token: parsed.access_token, refresh_token: parsed.refresh_token }
        : null;
    } catch {
      return null;
    }
  }

  set(pair: TokenPair): void {
    localStorage.setItem(KEY, JSON.stringify({ access_token: pair.access_token, refresh_token: pair.refresh_token }));
  }

  clear(): void {
    localStorage.removeItem(KEY);
  }
}

/** Seconds until the access token's `exp` (negative when expired); null when it cannot be read. */
export function secondsLeft(accessToken: string, nowMs = Date.now()): number | null {
  const payload = accessToken.split('.')[1];
  if (!payload) return null;
  try {
    const json = JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: unknown };
    return typeof json.exp === 'number' ? json.exp - nowMs / 1000 : null;
  } catch {
    return null;
  }
}
