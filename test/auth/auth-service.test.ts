/**
 * Accounts and tokens without a server: the auth service over a fresh database with a clock the
 * test moves, and its parts (access tokens, refresh tokens, passwords, the rate limit, bearer
 * headers) on their own.
 */
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_TTL_S, AccessTokens } from '../../src/auth/access-tokens.js';
import { AuthService } from '../../src/auth/auth-service.js';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.js';
import { REFRESH_TOKEN_TTL_MS, issueRefreshToken, revokeRefreshToken, rotateRefreshToken } from '../../src/auth/refresh-tokens.js';
import { bearerToken, userOf } from '../../src/auth/request-user.js';
import { LOCAL_USER_EMAIL, ensureLocalUser, findUserByEmail, insertUser } from '../../src/auth/users.js';
import { migrate } from '../../src/db/migrate.js';
import { AppError } from '../../src/errors/app-error.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

const SECRET = 'auth-service-test-secret-at-least-32-chars';
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await migrate(database.db);
});
afterAll(() => database?.drop());

/** The code and message `p` rejects with (an AppError). */
async function errorOf(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof AppError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a rejection');
}

/** Resolves to the AppError code `p` rejects with. */
async function codeOf(p: Promise<unknown>): Promise<string> {
  return (await errorOf(p)).code;
}

const claimsOf = (jwt: string) => JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('access tokens', () => {
  const t0 = Date.UTC(2026, 0, 1);

  it('signs HS256 tokens with sub, email, type access and a 15 minute expiry', async () => {
    const tokens = new AccessTokens(SECRET, () => t0);
    const jwt = await tokens.sign({ sub: 'user-1', email: 'a@b.test', ver: 0 });
    expect(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'HS256', typ: 'JWT' });
    const claims = claimsOf(jwt);
    expect(claims).toMatchObject({ sub: 'user-1', email: 'a@b.test', type: 'access', iat: t0 / 1000, exp: t0 / 1000 + 900 });
    expect(claims.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(ACCESS_TOKEN_TTL_S).toBe(900);
    expect(await tokens.verify(jwt)).toEqual({ sub: 'user-1', email: 'a@b.test', ver: 0 });
    expect(claimsOf(await tokens.sign({ sub: 'user-1', email: 'a@b.test', ver: 0 })).jti).not.toBe(claims.jti);
  });

  it('refuses an expired token with AUTH_1003 and one from another key with AUTH_1002', async () => {
    let now = t0;
    const tokens = new AccessTokens(SECRET, () => now);
    const jwt = await tokens.sign({ sub: 'u', email: 'e@x.test', ver: 0 });
    now = t0 + 899_000;
    await expect(tokens.verify(jwt)).resolves.toEqual({ sub: 'u', email: 'e@x.test', ver: 0 });
    now = t0 + 900_000;
    expect(await errorOf(tokens.verify(jwt))).toEqual({ code: 'AUTH_1003', message: 'The access token has expired.' });
    now = t0;
    expect(await errorOf(new AccessTokens('another-secret-that-is-32-characters-long', () => now).verify(jwt))).toEqual({
      code: 'AUTH_1002',
      message: 'The access token is not valid.',
    });
    expect(await codeOf(tokens.verify('not.a.jwt'))).toBe('AUTH_1002');
  });

  it('refuses a token of the right key without type access, a subject or an email', async () => {
    const tokens = new AccessTokens(SECRET, () => t0);
    const key = new TextEncoder().encode(SECRET);
    const make = (claims: Record<string, unknown>, sub?: string) => {
      let jwt = new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(t0 / 1000).setExpirationTime(t0 / 1000 + 60);
      if (sub) jwt = jwt.setSubject(sub);
      return jwt.sign(key);
    };
    expect(await codeOf(tokens.verify(await make({ email: 'e@x.test', type: 'refresh' }, 'u')))).toBe('AUTH_1002');
    expect(await codeOf(tokens.verify(await make({ email: 'e@x.test', type: 'access' })))).toBe('AUTH_1002');
    expect(await codeOf(tokens.verify(await make({ type: 'access' }, 'u')))).toBe('AUTH_1002');
    expect(await codeOf(tokens.verify(await make({ email: 7, type: 'access' }, 'u')))).toBe('AUTH_1002');
    await expect(tokens.verify(await make({ email: 'e@x.test', type: 'access' }, 'u'))).resolves.toEqual({ sub: 'u', email: 'e@x.test', ver: 0 });
    const hs512 = await new SignJWT({ email: 'e@x.test', type: 'access' }).setProtectedHeader({ alg: 'HS512' }).setSubject('u').sign(key);
    expect(await codeOf(tokens.verify(hs512))).toBe('AUTH_1002');
  });
});

describe('passwords', () => {
  it('hashes with scrypt into six $-separated parts and verifies only the same password', async () => {
    const stored = await hashPassword('correct horse');
    const parts = stored.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '16384', '8', '1']);
    expect(parts).toHaveLength(6);
    expect(Buffer.from(parts[5]!, 'base64url')).toHaveLength(64);
    expect(await hashPassword('correct horse')).not.toBe(stored);
    expect(await verifyPassword('correct horse', stored)).toBe(true);
    expect(await verifyPassword('correct horsE', stored)).toBe(false);
  });

  it('treats a malformed stored hash as a mismatch', async () => {
    const stored = await hashPassword('pw');
    const [, n, r, p, salt, hash] = stored.split('$');
    expect(await verifyPassword('pw', ['bcrypt', n, r, p, salt, hash].join('$'))).toBe(false);
    expect(await verifyPassword('pw', ['scrypt', n, r, p, '', hash].join('$'))).toBe(false);
    expect(await verifyPassword('pw', ['scrypt', n, r, p, salt].join('$'))).toBe(false);
    expect(await verifyPassword('pw', '')).toBe(false);
    const other = Buffer.from(hash!, 'base64url').map((b) => b ^ 1);
    expect(await verifyPassword('pw', ['scrypt', n, r, p, salt, Buffer.from(other).toString('base64url')].join('$'))).toBe(false);
    // The parameters stored with the hash are the ones used: a different cost gives a different key.
    expect(await verifyPassword('pw', ['scrypt', 1024, r, p, salt, hash].join('$'))).toBe(false);
  });
});

describe('bearer headers', () => {
  it('takes the token of a Bearer header in any case, and nothing else', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   abc  ')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer a b')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken('xBearer abc')).toBeUndefined();
    expect(bearerToken('')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it('a route without an authenticated user is refused with AUTH_1001', () => {
    const user = { id: 'u', email: 'e', display_name: null };
    expect(userOf({ user } as never)).toBe(user);
    expect(() => userOf({ user: null } as never)).toThrow(AppError);
  });
});

describe('users', () => {
  it('stores emails in lower case, finds them in any case, and refuses a taken email', async () => {
    const row = await insertUser(database.db, { email: 'Mixed@Case.TEST', passwordHash: 'h', displayName: 'M' });
    expect(row).toMatchObject({ email: 'mixed@case.test', display_name: 'M', password_hash: 'h' });
    expect((await findUserByEmail(database.db, 'MIXED@case.test'))?.id).toBe(row!.id);
    expect(await insertUser(database.db, { email: 'mixed@CASE.test', passwordHash: null, displayName: null })).toBeNull();
    expect(await findUserByEmail(database.db, 'nobody@case.test')).toBeNull();
  });

  it('creates the local user once', async () => {
    const first = await ensureLocalUser(database.db);
    const second = await ensureLocalUser(database.db);
    expect(first).toEqual({ id: second.id, email: LOCAL_USER_EMAIL, display_name: 'Local user', role: 'admin' });
  });
});

describe('refresh tokens', () => {
  const t0 = Date.UTC(2026, 0, 1);
  let userId: string;
  beforeAll(async () => {
    userId = (await insertUser(database.db, { email: 'refresh@x.test', passwordHash: null, displayName: null }))!.id;
  });

  it('stores only a hash, expires after 7 days, and rotates within the family', async () => {
    const token = await issueRefreshToken(database.db, userId, undefined, t0);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const { rows } = await database.db.query<{ token_hash: string; expires_at: Date; family_id: string }>(
      'SELECT token_hash, expires_at, family_id FROM refresh_tokens WHERE user_id = $1',
      [userId],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.token_hash).not.toContain(token);
    expect(rows[0]!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.expires_at.getTime()).toBe(t0 + REFRESH_TOKEN_TTL_MS);
    expect(REFRESH_TOKEN_TTL_MS).toBe(604_800_000);

    const rotated = await rotateRefreshToken(database.db, token, t0 + 1_000);
    expect(rotated.userId).toBe(userId);
    expect(rotated.token).not.toBe(token);
    const families = await database.db.query<{ family_id: string; revoked: boolean }>(
      'SELECT family_id, revoked_at IS NOT NULL AS revoked FROM refresh_tokens WHERE user_id = $1 ORDER BY created_at, revoked_at NULLS LAST',
      [userId],
    );
    expect(new Set(families.rows.map((r) => r.family_id)).size).toBe(1);
    expect(families.rows.map((r) => r.revoked).sort()).toEqual([false, true]);
  });

  it('refuses a token at its expiry instant, and an unknown token, with AUTH_1003', async () => {
    const token = await issueRefreshToken(database.db, userId, undefined, t0);
    expect(await errorOf(rotateRefreshToken(database.db, token, t0 + REFRESH_TOKEN_TTL_MS))).toEqual({
      code: 'AUTH_1003',
      message: 'The refresh token is expired or not valid.',
    });
    await expect(rotateRefreshToken(database.db, token, t0 + REFRESH_TOKEN_TTL_MS - 1)).resolves.toMatchObject({ userId });
    expect(await codeOf(rotateRefreshToken(database.db, 'unknown', t0))).toBe('AUTH_1003');
  });

  it('a spent token revokes its whole family, and says so', async () => {
    const first = await issueRefreshToken(database.db, userId, undefined, t0);
    const second = (await rotateRefreshToken(database.db, first, t0)).token;
    await expect(rotateRefreshToken(database.db, first, t0)).rejects.toThrow('already used');
    expect(await codeOf(rotateRefreshToken(database.db, second, t0))).toBe('AUTH_1003');
    await expect(rotateRefreshToken(database.db, second, t0)).rejects.toThrow('already used');
  });

  it('logout revokes the family and ignores unknown tokens; other families live on', async () => {
    const mine = await issueRefreshToken(database.db, userId, undefined, t0);
    const other = await issueRefreshToken(database.db, userId, undefined, t0);
    await revokeRefreshToken(database.db, 'never-issued');
    await revokeRefreshToken(database.db, mine);
    await expect(rotateRefreshToken(database.db, mine, t0)).rejects.toThrow('already used');
    await expect(rotateRefreshToken(database.db, other, t0)).resolves.toMatchObject({ userId });
  });
});

describe('the auth service', () => {
  const t0 = Date.UTC(2026, 0, 1);
  let now = t0;
  const jwt = () => new AuthService({ db: database.db, mode: 'jwt', jwtSecret: SECRET, allowRegistration: true, now: () => now });

  it('needs a secret in jwt mode', () => {
    expect(() => new AuthService({ db: database.db, mode: 'jwt', jwtSecret: undefined, allowRegistration: true })).toThrow('needs a JWT secret');
    expect(() => new AuthService({ db: database.db, mode: 'jwt', jwtSecret: '', allowRegistration: true })).toThrow('needs a JWT secret');
  });

  it('in none mode everyone is the local user and accounts are off', async () => {
    const none = new AuthService({ db: database.db, mode: 'none', jwtSecret: undefined, allowRegistration: true });
    await none.init();
    const user = await none.authenticate(undefined);
    expect(user.email).toBe('local@pulp.localhost');
    expect(await none.authenticate('anything')).toEqual(user);
    expect(await errorOf(none.register({ email: 'x@y.test', password: 'password123' }))).toEqual({
      code: 'RES_3001',
      message: 'Accounts are off: this server runs with AUTH_MODE=none.',
    });
    expect(await codeOf(none.login({ email: 'x@y.test', password: 'password123' }))).toBe('RES_3001');
    expect(await codeOf(none.refresh('t'))).toBe('RES_3001');
    expect(await codeOf(none.logout('t'))).toBe('RES_3001');
    // Without init, the first request creates the local user.
    const lazy = new AuthService({ db: database.db, mode: 'none', jwtSecret: undefined, allowRegistration: true });
    expect(await lazy.authenticate(undefined)).toEqual(user);
  });

  it('creates the local user at startup in none mode only', async () => {
    const forgetLocalUser = () => database.db.query('DELETE FROM users WHERE email = $1', [LOCAL_USER_EMAIL]);
    await forgetLocalUser();
    await jwt().init();
    expect(await findUserByEmail(database.db, LOCAL_USER_EMAIL)).toBeNull();
    await new AuthService({ db: database.db, mode: 'none', jwtSecret: undefined, allowRegistration: true }).init();
    expect(await findUserByEmail(database.db, LOCAL_USER_EMAIL)).toMatchObject({ email: LOCAL_USER_EMAIL, password_hash: null });
  });

  it('registers, logs in, refreshes and logs out with a token pair', async () => {
    const auth = jwt();
    now = t0;
    const pair = await auth.register({ email: 'Svc@X.test', password: 'password123', display_name: 'Svc' });
    expect(pair).toMatchObject({ token_type: 'bearer', expires_in: 900, user: { email: 'svc@x.test', display_name: 'Svc' } });
    expect(Object.keys(pair.user).sort()).toEqual(['display_name', 'email', 'id', 'role']);
    expect(await auth.authenticate(pair.access_token)).toEqual(pair.user);
    expect(await errorOf(auth.register({ email: 'svc@x.test', password: 'other-password' }))).toEqual({
      code: 'RES_3002',
      message: 'An account with this email already exists.',
    });
    expect((await auth.register({ email: 'nodisplay@x.test', password: 'password123' })).user.display_name).toBeNull();

    const login = await auth.login({ email: 'svc@x.test', password: 'password123' });
    expect(login.user).toEqual(pair.user);
    // A wrong password and an unknown email get the same answer: nothing tells which emails exist.
    const badCredentials = { code: 'AUTH_1006', message: 'Invalid email or password.' };
    expect(await errorOf(auth.login({ email: 'svc@x.test', password: 'wrong-password' }))).toEqual(badCredentials);
    expect(await errorOf(auth.login({ email: 'nobody@x.test', password: 'password123' }))).toEqual(badCredentials);

    const renewed = await auth.refresh(login.refresh_token);
    expect(renewed.user).toEqual(pair.user);
    expect(renewed.refresh_token).not.toBe(login.refresh_token);
    await auth.logout(renewed.refresh_token);
    expect(await codeOf(auth.refresh(renewed.refresh_token))).toBe('AUTH_1003');

    now = t0 + 900_000;
    expect(await codeOf(auth.authenticate(pair.access_token))).toBe('AUTH_1003');
    now = t0;
  });

  it('refuses a missing token, a token of a deleted user, and a passwordless account', async () => {
    const auth = jwt();
    expect(await codeOf(auth.authenticate(undefined))).toBe('AUTH_1001');
    expect(await codeOf(auth.authenticate(''))).toBe('AUTH_1001');
    const pair = await auth.register({ email: 'gone@x.test', password: 'password123' });
    await database.db.query('DELETE FROM users WHERE id = $1', [pair.user.id]);
    expect(await errorOf(auth.authenticate(pair.access_token))).toEqual({ code: 'AUTH_1002', message: 'The access token is not valid.' });
    expect(await codeOf(auth.refresh(pair.refresh_token))).toBe('AUTH_1003');
    await insertUser(database.db, { email: 'nopass@x.test', passwordHash: null, displayName: null });
    expect(await codeOf(auth.login({ email: 'nopass@x.test', password: 'password123' }))).toBe('AUTH_1006');
  });

  it('refuses registration when it is closed', async () => {
    const closed = new AuthService({ db: database.db, mode: 'jwt', jwtSecret: SECRET, allowRegistration: false });
    expect(await errorOf(closed.register({ email: 'closed@x.test', password: 'password123' }))).toEqual({
      code: 'AUTH_1004',
      message: 'Registration is closed on this server; ask an administrator.',
    });
    expect(await findUserByEmail(database.db, 'closed@x.test')).toBeNull();
  });
});
