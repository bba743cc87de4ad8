/**
 * OpenID Connect sign-in with openid-client: authorization code + PKCE (S256) + state + nonce.
 * `start` keeps the verifier and nonce server-side in `oidc_logins` under the state (10 minutes,
 * single use); `finish` spends that row, lets openid-client check the answer (state, PKCE, the ID
 * token's signature, issuer, audience and nonce), then finds, links or creates the Pulp user.
 */
import * as client from 'openid-client';
import type { OidcConfig } from '../config/config.js';
import type { Database } from '../db/database.js';
import { AppError } from '../errors/app-error.js';
import type { AuthService, TokenPair } from './auth-service.js';
import { findUserByEmail, findUserById, insertUser, withFirstUserCheck, type UserRow } from './users.js';

export const OIDC_LOGIN_TTL_MS = 10 * 60 * 1000;

export interface OidcDeps {
  db: Database;
  auth: AuthService;
  config: OidcConfig;
  now?: () => number;
}

const failed = (message: string) => new AppError('AUTH_1008', message);

export class OidcLogin {
  private discovered: Promise<client.Configuration> | undefined;
  private readonly now: () => number;

  constructor(private readonly deps: OidcDeps) {
    this.now = deps.now ?? Date.now;
  }

  /** Where to send the browser, and the state to bind to it (a cookie). */
  async start(): Promise<{ url: string; state: string }> {
    const configuration = await this.configuration();
    const verifier = client.randomPKCECodeVerifier();
    const state = client.randomState();
    const nonce = client.randomNonce();
    await this.deps.db.query('DELETE FROM oidc_logins WHERE expires_at < $1', [new Date(this.now())]);
    await this.deps.db.query('INSERT INTO oidc_logins (state, code_verifier, nonce, expires_at) VALUES ($1, $2, $3, $4)', [
      state,
      verifier,
      nonce,
      new Date(this.now() + OIDC_LOGIN_TTL_MS),
    ]);
    const url = client.buildAuthorizationUrl(configuration, {
      redirect_uri: this.deps.config.redirectUri,
      scope: this.deps.config.scopes,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    });
    return { url: url.href, state };
  }

  /**
   * Completes a sign-in from the callback's query string and the state cookie of the browser that
   * started it. Throws AUTH_1008 (400) for anything that does not check out, RES_3002 when an
   * unverified email belongs to an existing account, AUTH_1005 for a disabled account.
   */
  async finish(rawQuery: string, cookieState: string | undefined): Promise<TokenPair> {
    const params = new URLSearchParams(rawQuery);
    const error = params.get('error');
    if (error) throw failed(`The sign-in provider refused: ${error.replace(/[^\w.-]/g, '').slice(0, 64)}.`);
    const state = params.get('state');
    if (!state || state.length > 256) throw failed('The sign-in answer has no state.');
    if (cookieState !== state) throw failed('The sign-in answer does not belong to this browser; start again.');
    const { rows } = await this.deps.db.query<{ code_verifier: string; nonce: string; expires_at: Date }>(
      'DELETE FROM oidc_logins WHERE state = $1 RETURNING code_verifier, nonce, expires_at',
      [state],
    );
    const login = rows[0];
    if (!login || login.expires_at.getTime() <= this.now()) throw failed('This sign-in was already used or has expired; start again.');

    const configuration = await this.configuration();
    let claims: Record<string, unknown>;
    try {
      const tokens = await client.authorizationCodeGrant(configuration, new URL(`${this.deps.config.redirectUri}?${rawQuery}`), {
        pkceCodeVerifier: login.code_verifier,
        expectedState: state,
        expectedNonce: login.nonce,
        idTokenExpected: true,
      });
      const idClaims = tokens.claims();
      if (!idClaims) throw failed('The provider sent no ID token.');
      claims = { ...idClaims };
      // Email and groups often come from the userinfo endpoint only; the ID token's subject must match.
      if (configuration.serverMetadata().userinfo_endpoint) {
        const info = await client.fetchUserInfo(configuration, tokens.access_token, idClaims.sub);
        claims = { ...info, ...idClaims, ...pick(info, ['email', 'email_verified', 'name', 'groups']) };
      }
    } catch (err) {
      if (err instanceof AppError) throw err;
      throw new AppError('AUTH_1008', 'The sign-in provider\'s answer did not check out; start again.', undefined, { cause: err });
    }
    const user = await this.resolveUser(claims);
    return this.deps.auth.signIn(user);
  }

  /** Finds the user by (issuer, subject), else links by a verified email, else creates one. */
  private async resolveUser(claims: Record<string, unknown>): Promise<UserRow> {
    const { config } = this.deps;
    const subject = claims.sub;
    if (typeof subject !== 'string' || subject === '' || subject.length > 255) throw failed('The provider sent no usable subject.');
    const groups = Array.isArray(claims.groups) ? claims.groups.filter((g): g is string => typeof g === 'string') : [];
    const inAdminGroup = config.adminGroups.some((g) => groups.includes(g));

    return withFirstUserCheck(this.deps.db, async (tx, first) => {
      const { rows } = await tx.query<{ user_id: string }>('SELECT user_id FROM user_identities WHERE issuer = $1 AND subject = $2', [
        config.issuer,
        subject,
      ]);
      let user = rows[0] ? await findUserById(tx, rows[0].user_id) : null;
      if (!user) {
        const email = typeof claims.email === 'string' ? claims.email.trim().toLowerCase() : '';
        if (!/^[^\s@]+@[^\s@]+$/.test(email) || email.length > 320) throw failed('The provider sent no email address for this account.');
        const existing = await findUserByEmail(tx, email);
        if (existing && claims.email_verified !== true) {
          throw new AppError('RES_3002', 'An account with this email exists and the provider does not confirm the email is verified; verify it there, or sign in with the password.');
        }
        const name = typeof claims.name === 'string' && claims.name.trim() ? claims.name.trim().slice(0, 100) : null;
        user = existing ?? (await insertUser(tx, { email, passwordHash: null, displayName: name, role: first ? 'admin' : 'user' }));
        if (!user) throw new Error('the account could not be created');
        await tx.query('INSERT INTO user_identities (issuer, subject, user_id) VALUES ($1, $2, $3)', [config.issuer, subject, user.id]);
      }
      if (inAdminGroup && user.role !== 'admin') {
        await tx.query(`UPDATE users SET role = 'admin' WHERE id = $1`, [user.id]);
        user = { ...user, role: 'admin' };
      }
      return user;
    });
  }

  /** The provider's metadata, discovered on first use and kept; a failure is retried next time. */
  private configuration(): Promise<client.Configuration> {
    const { config } = this.deps;
    this.discovered ??= client
      .discovery(
        new URL(config.issuer),
        config.clientId,
        undefined,
        config.clientSecret ? client.ClientSecretBasic(config.clientSecret) : client.None(),
        new URL(config.issuer).protocol === 'http:' ? { execute: [client.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        this.discovered = undefined;
        throw new AppError('EXT_7001', 'The sign-in provider could not be reached.', undefined, { cause: err });
      });
    return this.discovered;
  }
}

function pick(source: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => source[k] !== undefined).map((k) => [k, source[k]]));
}
