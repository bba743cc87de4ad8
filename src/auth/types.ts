/** The authenticated user as every other capability sees it. */
export interface AuthUser {
  id: string;
  email: string;
  display_name: string | null;
}

/**
 * Turns a bearer token (or nothing) into a user. In `AUTH_MODE=none` it always returns the local
 * user. Throws `AppError` `AUTH_1001` (no token), `AUTH_1002` (invalid) or `AUTH_1003` (expired).
 */
export type Authenticate = (token: string | undefined) => Promise<AuthUser>;
