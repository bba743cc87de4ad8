/**
 * The REST client: JSON in and out, the bearer token on every call in jwt mode, one refresh on a
 * 401 (shared by concurrent callers), and `ApiError` carrying the server's code and message.
 */
import type * as z from 'zod/mini';
import { ErrorEnvelopeSchema, TokenPairSchema } from './protocol.js';
import { secondsLeft, TokenStore } from './tokens.js';

export const API = '/api/v1';
/** No request waits longer than this; uploads get their own, longer bound. */
export const REQUEST_TIMEOUT_MS = 30_000;
export const UPLOAD_TIMEOUT_MS = 10 * 60_000;

export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Called when the session is gone for good: the app shows the login form. `disabled` when an
 * administrator disabled the account (REST 403 `AUTH_1005`, or the socket closed with 4403
 * "Account disabled"): the form then says so.
 */
export type OnLoggedOut = (reason?: 'disabled') => void;

/** What the login form says after `OnLoggedOut('disabled')`. */
export const ACCOUNT_DISABLED_MESSAGE = 'This account is disabled.';

export class ApiClient {
  readonly tokens = new TokenStore();
  jwt = false;
  onLoggedOut: OnLoggedOut = () => {};
  #refreshing: Promise<boolean> | null = null;

  /** JSON request; parses the answer with `schema`. Throws ApiError with a human message. */
  async json<S extends z.ZodMiniType>(method: string, path: string, schema: S, body?: unknown, signal?: AbortSignal): Promise<z.infer<S>> {
    const init: RequestInit = { method };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers = { 'content-type': 'application/json' };
    }
    const res = await this.send(path, init, REQUEST_TIMEOUT_MS, signal);
    const data: unknown = await res.json();
    const parsed = schema.safeParse(data);
    if (!parsed.success) throw new ApiError(res.status, 'CLIENT', `The server answered ${method} ${path} in a shape this page does not understand.`);
    return parsed.data;
  }

  /** Any request (uploads, downloads); resolves only for a 2xx answer. */
  async send(path: string, init: RequestInit, timeoutMs = REQUEST_TIMEOUT_MS, signal?: AbortSignal): Promise<Response> {
    let res = await this.#fetch(path, init, timeoutMs, signal);
    if (res.status === 401 && this.jwt && (await this.refresh())) res = await this.#fetch(path, init, timeoutMs, signal);
    if (res.status === 401 && this.jwt) {
      this.tokens.clear();
      this.onLoggedOut();
    }
    if (!res.ok) {
      const err = await toApiError(res);
      if (this.jwt && err.code === 'AUTH_1005') this.accountDisabled();
      throw err;
    }
    return res;
  }

  /** The account was disabled by an administrator: drop the tokens and go to the login form. */
  accountDisabled(): void {
    this.tokens.clear();
    this.onLoggedOut('disabled');
  }

  /** A usable access token for the WebSocket, refreshed first when it is about to expire. */
  async accessToken(): Promise<string | null> {
    const pair = this.tokens.get();
    if (!pair) return null;
    const left = secondsLeft(pair.access_token);
    if (left !== null && left < 30 && (await this.refresh())) return this.tokens.get()?.access_token ?? null;
    return pair.access_token;
  }

  /** Spends the refresh token for a new pair; false (and tokens cleared) when that fails. */
  refresh(): Promise<boolean> {
    this.#refreshing ??= this.#doRefresh().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  /** Logs in or registers. A 401 here is a wrong password, not an expired login: no refresh, no logout. */
  async login(kind: 'login' | 'register', body: { email: string; password: string; display_name?: string }): Promise<void> {
    const init = { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } };
    const res = await this.#fetch(`/auth/${kind}`, init, REQUEST_TIMEOUT_MS, undefined, false);
    if (!res.ok) throw await toApiError(res);
    const pair = TokenPairSchema.safeParse(await res.json());
    if (!pair.success) throw new ApiError(res.status, 'CLIENT', 'The server answered the login in a shape this page does not understand.');
    this.tokens.set(pair.data);
  }

  async logout(): Promise<void> {
    const pair = this.tokens.get();
    this.tokens.clear();
    if (pair) {
      await fetch(`${API}/auth/logout`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: pair.refresh_token }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      }).catch(() => undefined);
    }
  }

  async #doRefresh(): Promise<boolean> {
    const pair = this.tokens.get();
    if (!pair) return false;
    try {
      const res = await fetch(`${API}/auth/refresh`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ refresh_token: pair.refresh_token }),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      const parsed = TokenPairSchema.safeParse(res.ok ? await res.json() : null);
      if (!parsed.success) {
        // Only a definite "no" logs the user out; a network blip keeps the tokens for the next try.
        if (res.status === 401) this.tokens.clear();
        else if (res.status === 403 && (await toApiError(res)).code === 'AUTH_1005') this.accountDisabled();
        return false;
      }
      this.tokens.set(parsed.data);
      return true;
    } catch {
      return false;
    }
  }

  async #fetch(path: string, init: RequestInit, timeoutMs: number, signal?: AbortSignal, authed = true): Promise<Response> {
    const headers = new Headers(init.headers);
    const token = this.jwt && authed ? this.tokens.get()?.access_token : undefined;
    if (token) headers.set('authorization', `Bearer ${token}`);
    const bound = AbortSignal.timeout(timeoutMs);
    try {
      return await fetch(`${API}${path}`, { ...init, headers, signal: signal ? AbortSignal.any([signal, bound]) : bound });
    } catch (err) {
      if (bound.aborted) throw new ApiError(0, 'TIMEOUT', `The server did not answer within ${Math.round(timeoutMs / 1000)} s.`);
      if (signal?.aborted) throw err;
      throw new ApiError(0, 'NETWORK', 'Cannot reach the server. Check that Pulp is running.');
    }
  }
}

async function toApiError(res: Response): Promise<ApiError> {
  const body: unknown = await res.json().catch(() => null);
  const parsed = ErrorEnvelopeSchema.safeParse(body);
  if (parsed.success) return new ApiError(res.status, parsed.data.error.code, parsed.data.error.message);
  return new ApiError(res.status, `HTTP_${res.status}`, `The server answered ${res.status} ${res.statusText}.`);
}

/** A message for the error banner, whatever was thrown. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) return err.code.includes('_') && !err.code.startsWith('HTTP') ? `${err.message} (${err.code})` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
