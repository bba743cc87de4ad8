/**
 * Accounts and tokens, framework-free. In `none` mode every caller is the local user;
 * in `jwt` mode callers present access tokens and renew them with rotating refresh tokens.
 */
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { ACCESS_TOKEN_TTL_S, AccessTokens } from './access-tokens.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords.js';
import { isApiKey, userForApiKey } from './api-keys.js';
import { issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from './refresh-tokens.js';
import type { AuthUser } from './types.js';
import { ensureLocalUser, findUserByEmail, hasAccounts, findUserById, insertUser, publicUser, withFirstUserCheck, type UserRow } from './users.js';

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: 'bearer';
  expires_in: number;
  user: AuthUser;
}

export interface AuthServiceOptions {
  db: Database;
  mode: 'none' | 'jwt';
  jwtSecret: string | undefined;
  /** Password registration after the first account. */
  allowRegistration: boolean;
  /** False refuses password login and registration (single sign-on only). Default true. */
  passwordLogin?: boolean;
  now?: () => number;
}

/** Called when a user is disabled or deleted, so live connections of that user can be closed. */
export type UserDisabledListener = (userId: string) => void | Promise<void>;

const BAD_CREDENTIALS = 'Invalid email or password.';
const MISSING_USER = {
  AUTH_1002: 'The access token is not valid.',
  AUTH_1003: undefined,
  AUTH_1006: BAD_CREDENTIALS,
} as const;

const USER_ID = z.guid();

export class AuthService {
  readonly mode: 'none' | 'jwt';
  private readonly db: Database;
  private readonly tokens: AccessTokens | undefined;
  private readonly allowRegistration: boolean;
  readonly passwordLogin: boolean;
  private readonly now: () => number;
  private localUser: AuthUser | undefined;
  private readonly disabledListeners: UserDisabledListener[] = [];
  private readonly loggedOutListeners: UserDisabledListener[] = [];

  constructor(options: AuthServiceOptions) {
    if (options.mode === 'jwt' && !options.jwtSecret) throw new Error('AUTH_MODE=jwt needs a JWT secret');
    this.db = options.db;
    this.mode = options.mode;
    this.now = options.now ?? Date.now;
    this.tokens = options.jwtSecret ? new AccessTokens(options.jwtSecret, this.now) : undefined;
    this.allowRegistration = options.allowRegistration;
    this.passwordLogin = options.passwordLogin ?? true;
  }

  /** Registers a listener for `userDisabled`; app.ts closes the user's sockets with it. */
  onUserDisabled(listener: UserDisabledListener): void {
    this.disabledListeners.push(listener);
  }

  /** Tells every listener that `userId` lost access (disabled or deleted). Listener failures are not the caller's. */
  async userDisabled(userId: string): Promise<void> {
    await Promise.allSettled(this.disabledListeners.map(async (listener) => listener(userId)));
  }

  /** Whether `POST /auth/register` would accept an account now (always for the first account). */
  async registrationOpen(): Promise<boolean> {
    if (this.mode !== 'jwt' || !this.passwordLogin) return false;
    if (this.allowRegistration) return true;
    return !(await hasAccounts(this.db));
  }

  /** Creates the local user in `none` mode; call once at startup. */
  async init(): Promise<void> {
    if (this.mode === 'none') this.localUser = await ensureLocalUser(this.db);
  }

  /** The user behind `token`; throws AUTH_1001 (none given), AUTH_1002 (invalid) or AUTH_1003 (expired). */
  async authenticate(token: string | undefined): Promise<AuthUser> {
    if (this.mode === 'none') {
      this.localUser ??= await ensureLocalUser(this.db);
      return this.localUser;
    }
    if (!token) throw new AppError('AUTH_1001');
    if (token.length > 4096) throw new AppError('AUTH_1002', 'The access token is not valid.');
    if (isApiKey(token)) return publicUser(await userForApiKey(this.db, token, this.now()));
    const claims = await this.requireTokens().verify(token);
    // User ids are UUIDs: a signed token naming anything else names no user (and must not reach
    // the uuid column, where it would be a database error).
    if (!USER_ID.safeParse(claims.sub).success) throw new AppError('AUTH_1002', 'The access token is not valid.');
    // One indexed lookup per request: a disabled or deleted user is refused at once, and so is a
    // token signed before the user's last logout.
    const user = this.usable(await findUserById(this.db, claims.sub), 'AUTH_1002');
    if (user.token_version !== claims.ver) throw new AppError('AUTH_1002', 'The access token was revoked by a logout; sign in again.');
    return publicUser(user);
  }

  async register(input: { email: string; password: string; display_name?: string | undefined }): Promise<TokenPair> {
    this.requirePasswordLogin();
    const passwordHash = await hashPassword(input.password);
    const user = await withFirstUserCheck(this.db, async (tx, first) => {
      if (!first && !this.allowRegistration) throw new AppError('AUTH_1004', 'Registration is closed on this server; ask an administrator.');
      const row = await insertUser(tx, {
        email: input.email,
        passwordHash,
        displayName: input.display_name ?? null,
        role: first ? 'admin' : 'user',
      });
      if (!row) throw new AppError('RES_3002', 'An account with this email already exists.');
      return row;
    });
    return this.issue(user);
  }

  async login(input: { email: string; password: string }): Promise<TokenPair> {
    this.requirePasswordLogin();
    const user = await findUserByEmail(this.db, input.email);
    // Verify against a dummy hash for unknown emails so the answer takes the same time.
    const ok = await verifyPassword(input.password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !user.password_hash || !ok) throw new AppError('AUTH_1006', BAD_CREDENTIALS);
    return this.issue(this.usable(user, 'AUTH_1006'));
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    this.requireJwtMode();
    const rotated = await rotateRefreshToken(this.db, refreshToken, this.now());
    const user = this.usable(await findUserById(this.db, rotated.userId), 'AUTH_1003');
    return this.pair(user, rotated.token);
  }

  /** Tokens for a user who proved who they are some other way (single sign-on). */
  async signIn(user: UserRow): Promise<TokenPair> {
    this.requireJwtMode();
    return this.issue(this.usable(user, 'AUTH_1002'));
  }

  /**
   * Ends the login of `refreshToken`: revokes its family and raises the owner's token version, so
   * every access token of that user signed so far stops working at once (other devices refresh
   * and go on; API keys are not touched). Listeners of `onLoggedOut` then close the user's sockets.
   * An unknown token changes nothing and is not an error.
   */
  async logout(refreshToken: string): Promise<void> {
    this.requireJwtMode();
    const userId = await revokeRefreshToken(this.db, refreshToken);
    if (!userId) return;
    await Promise.allSettled(this.loggedOutListeners.map(async (listener) => listener(userId)));
  }

  /** Registers a listener told after a logout revoked `userId`'s access tokens. */
  onLoggedOut(listener: UserDisabledListener): void {
    this.loggedOutListeners.push(listener);
  }

  private async issue(user: UserRow): Promise<TokenPair> {
    return this.pair(user, await issueRefreshToken(this.db, user.id, undefined, this.now()));
  }

  private async pair(user: UserRow, refreshToken: string): Promise<TokenPair> {
    const access = await this.requireTokens().sign({ sub: user.id, email: user.email, ver: user.token_version });
    return { access_token: access, refresh_token: refreshToken, token_type: 'bearer', expires_in: ACCESS_TOKEN_TTL_S, user: publicUser(user) };
  }

  /** `user`, unless it is missing (`missing` code) or disabled (AUTH_1005). */
  private usable(user: UserRow | null, missing: 'AUTH_1002' | 'AUTH_1003' | 'AUTH_1006'): UserRow {
    if (!user) throw new AppError(missing, MISSING_USER[missing]);
    if (user.disabled) throw new AppError('AUTH_1005', 'This account is disabled; ask an administrator.');
    return user;
  }

  private requirePasswordLogin(): void {
    this.requireJwtMode();
    if (!this.passwordLogin) throw new AppError('AUTH_1004', 'Password sign-in is off on this server; use single sign-on.');
  }

  private requireJwtMode(): void {
    if (this.mode !== 'jwt') throw new AppError('RES_3001', 'Accounts are off: this server runs with AUTH_MODE=none.');
  }

  private requireTokens(): AccessTokens {
    if (!this.tokens) throw new AppError('AUTH_1002');
    return this.tokens;
  }
}
