export type UserRole = 'admin' | 'user';

/** The authenticated user as every other capability sees it. */
export interface AuthUser {
  id: string;
  email: string;
  display_name: string | null;
  role: UserRole;
}

/**
 * Turns a bearer token (or nothing) into a user. In `AUTH_MODE=none` it always returns the local
 * user. Throws `AppError` `AUTH_1001` (no token), `AUTH_1002` (invalid), `AUTH_1003` (expired) or
 * `AUTH_1005` (the account is disabled). A token may be an access token or an API key (`pulp_…`).
 */
export type Authenticate = (token: string | undefined) => Promise<AuthUser>;
