/** A tiny JSON client for tests: real HTTP against a started server. */

/**
 * A response body as the tests read it: what `JSON.parse` returns, of any shape — the tests read
 * fields freely and their assertions check the shape. A caller that knows the shape passes `T`.
 */
export type JsonBody = ReturnType<typeof JSON.parse>;

export interface ApiResponse<T = JsonBody> {
  status: number;
  body: T;
  headers: Headers;
}

export function apiClient(baseUrl: string, token?: string) {
  return async function api<T = JsonBody>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<ApiResponse<T>> {
    const res = await fetch(`${baseUrl}/api/v1${path}`, {
      method,
      headers: {
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  };
}
