/**
 * Accounts and tokens, framework-free. In `none` mode every caller is the local user;
 * in `jwt` mode callers present access tokens and renew them with rotating refresh tokens.
 */
import { z } from 'zod';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import { ACCESS_TOKEN_TTL_S, AccessTokens } from './access-tokens.js';
import { DUMMY_HASH_PROMISE, hashPassword, verifyPassword } from './passwords.js';
import { issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from './refresh-tokens.js';
import type { AuthUser } from './types.js';
import { ensureLocalUser, findUserByEmail, findUserById, insertUser, publicUser } from './users.js';

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
  allowRegistration: boolean;
  now?: () => number;
}

const BAD_CREDENTIALS = 'Invalid email or password.';

const USER_ID = z.guid();

export class AuthService {
  readonly mode: 'none' | 'jwt';
  private readonly db: Database;
  private readonly tokens: AccessTokens | undefined;
  private readonly allowRegistration: boolean;
  private readonly now: () => number;
  private localUser: AuthUser | undefined;

  constructor(options: AuthServiceOptions) {
    if (options.mode === 'jwt' && !options.jwtSecret) throw new Error('AUTH_MODE=jwt needs a JWT secret');
    this.db = options.db;
    this.mode = options.mode;
    this.now = options.now ?? Date.now;
    this.tokens = options.jwtSecret ? new AccessTokens(options.jwtSecret, this.now) : undefined;
    this.allowRegistration = options.allowRegistration;
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
    const claims = await this.requireTokens().verify(token);
    // User ids are UUIDs: a signed token naming anything else names no user (and must not reach
    // the uuid column, where it would be a database error).
    if (!USER_ID.safeParse(claims.sub).success) throw new AppError('AUTH_1002', 'The access token is not valid.');
    const user = await findUserById(this.db, claims.sub);
    if (!user) throw new AppError('AUTH_1002', 'The access token is not valid.');
    return publicUser(user);
  }

  async register(input: { email: string; password: string; display_name?: string | undefined }): Promise<TokenPair> {
    this.requireJwtMode();
    if (!this.allowRegistration) throw new AppError('AUTH_1004', 'Registration is closed on this server.');
    const user = await insertUser(this.db, {
      email: input.email,
      passwordHash: await hashPassword(input.password),
      displayName: input.display_name ?? null,
    });
    if (!user) throw new AppError('RES_3002', 'An account with this email already exists.');
    return this.issue(publicUser(user));
  }

  async login(input: { email: string; password: string }): Promise<TokenPair> {
    this.requireJwtMode();
    const user = await findUserByEmail(this.db, input.email);
    // Verify against a dummy hash for unknown emails so the answer takes the same time.
    const ok = await verifyPassword(input.password, user?.password_hash ?? (await DUMMY_HASH_PROMISE));
    if (!user || !user.password_hash || !ok) throw new AppError('AUTH_1006', BAD_CREDENTIALS);
    return this.issue(publicUser(user));
  }

  async refresh(refreshToken: string): Promise<TokenPair> {
    this.requireJwtMode();
    const rotated = await rotateRefreshToken(this.db, refreshToken, this.now());
    const user = await findUserById(this.db, rotated.userId);
    if (!user) throw new AppError('AUTH_1003');
    return this.pair(publicUser(user), rotated.token);
  }

  async logout(refreshToken: string): Promise<void> {
    this.requireJwtMode();
    await revokeRefreshToken(this.db, refreshToken);
  }

  private async issue(user: AuthUser): Promise<TokenPair> {
    return this.pair(user, await issueRefreshToken(this.db, user.id, undefined, this.now()));
  }

  private async pair(user: AuthUser, refreshToken: string): Promise<TokenPair> {
    const access = await this.requireTokens().sign({ sub: user.id, email: user.email });
    return { access_token: access, refresh_token: refreshToken, token_type: 'bearer', expires_in: ACCESS_TOKEN_TTL_S, user };
  }

  private requireJwtMode(): void {
    if (this.mode !== 'jwt') throw new AppError('RES_3001', 'Accounts are off: this server runs with AUTH_MODE=none.');
  }

  private requireTokens(): AccessTokens {
    if (!this.tokens) throw new AppError('AUTH_1002');
    return this.tokens;
  }
}
