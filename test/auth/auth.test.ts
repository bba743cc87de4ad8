import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'test-secret-that-is-at-least-32-characters-long';

describe('accounts in jwt mode', () => {
  let server: TestServer;
  let anon: ReturnType<typeof apiClient>;
  beforeAll(async () => {
    server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, AUTH_RATE_LIMIT_PER_MIN: '1000', ALLOW_REGISTRATION: 'true' });
    anon = apiClient(server.baseUrl);
  });
  afterAll(() => server.close());

  it('registers, logs in and answers /auth/me with a real expiry', async () => {
    const reg = await anon('POST', '/auth/register', { email: 'Ann@Example.com', password: 'correct horse', display_name: 'Ann' });
    expect(reg.status).toBe(201);
    expect(reg.body).toMatchObject({ token_type: 'bearer', expires_in: 900, user: { email: 'ann@example.com', display_name: 'Ann' } });
    const login = await anon('POST', '/auth/login', { email: 'ann@example.com', password: 'correct horse' });
    expect(login.status).toBe(200);
    const me = await apiClient(server.baseUrl, login.body.access_token)('GET', '/auth/me');
    expect(me.body).toEqual({ id: reg.body.user.id, email: 'ann@example.com', display_name: 'Ann', role: 'admin' });
    const claims = JSON.parse(Buffer.from(login.body.access_token.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ sub: reg.body.user.id, email: 'ann@example.com', type: 'access' });
    expect(claims.exp - claims.iat).toBe(900);
    expect(typeof claims.jti).toBe('string');
  });

  it('refuses a second account with the same email with 409 RES_3002', async () => {
    await anon('POST', '/auth/register', { email: 'dup@example.com', password: 'password1' });
    const again = await anon('POST', '/auth/register', { email: 'DUP@example.com', password: 'password2' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RES_3002');
  });

  it('answers an unknown email and a wrong password identically', async () => {
    await anon('POST', '/auth/register', { email: 'bob@example.com', password: 'bob-password' });
    const unknown = await anon('POST', '/auth/login', { email: 'nobody@example.com', password: 'bob-password' });
    const wrong = await anon('POST', '/auth/login', { email: 'bob@example.com', password: 'not-his-password' });
    expect(unknown.status).toBe(401);
    expect(wrong.status).toBe(401);
    expect(unknown.body.error.code).toBe('AUTH_1006');
    expect(wrong.body.error.code).toBe('AUTH_1006');
    expect(unknown.body.error.message).toBe(wrong.body.error.message);
  });

  it('rotates refresh tokens: a spent token is refused and revokes the newer one too', async () => {
    const reg = await anon('POST', '/auth/register', { email: 'rot@example.com', password: 'password1' });
    const first = reg.body.refresh_token as string;
    const second = await anon('POST', '/auth/refresh', { refresh_token: first });
    expect(second.status).toBe(200);
    expect(second.body.refresh_token).not.toBe(first);
    const reuse = await anon('POST', '/auth/refresh', { refresh_token: first });
    expect(reuse.status).toBe(401);
    expect(reuse.body.error.code).toBe('AUTH_1003');
    const newer = await anon('POST', '/auth/refresh', { refresh_token: second.body.refresh_token });
    expect(newer.status).toBe(401);
  });

  it('logout revokes the refresh token family', async () => {
    const reg = await anon('POST', '/auth/register', { email: 'out@example.com', password: 'password1' });
    expect((await anon('POST', '/auth/logout', { refresh_token: reg.body.refresh_token })).status).toBe(204);
    const after = await anon('POST', '/auth/refresh', { refresh_token: reg.body.refresh_token });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe('AUTH_1003');
  });

  it('validates registration fields with 422 VAL_2001 naming the field', async () => {
    for (const [body, field] of [
      [{ email: 'not-an-email', password: 'password1' }, 'email'],
      [{ email: 'short@example.com', password: 'short' }, 'password'],
      [{ email: 'long@example.com', password: 'x'.repeat(129) }, 'password'],
      [{ password: 'password1' }, 'email'],
    ] as const) {
      const res = await anon('POST', '/auth/register', body);
      expect(res.status).toBe(422);
      expect(res.body.error.code).toBe('VAL_2001');
      expect(res.body.error.details.map((d: { field: string }) => d.field)).toContain(field);
    }
  });

  it('refuses requests without a valid access token', async () => {
    const reg = await anon('POST', '/auth/register', { email: 'tok@example.com', password: 'password1' });
    const good = reg.body.access_token as string;
    const [h, p, s] = good.split('.') as [string, string, string];
    const tamperedPayload = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), sub: '00000000-0000-0000-0000-000000000000' })).toString('base64url');
    const otherSecret = await new SignJWT({ email: 'tok@example.com', type: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(reg.body.user.id)
      .setIssuedAt()
      .setExpirationTime('15m')
      .sign(new TextEncoder().encode('another-secret-another-secret-another-secret'));
    const algNone = new UnsecuredJWT({ email: 'tok@example.com', type: 'access' }).setSubject(reg.body.user.id).setIssuedAt().setExpirationTime('15m').encode();
    const expired = await new SignJWT({ email: 'tok@example.com', type: 'access' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject(reg.body.user.id)
      .setIssuedAt(Math.floor(Date.now() / 1000) - 3600)
      .setExpirationTime(Math.floor(Date.now() / 1000) - 1800)
      .sign(new TextEncoder().encode(SECRET));
    const none = await anon('GET', '/auth/me');
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('AUTH_1001');
    for (const token of [`${h}.${tamperedPayload}.${s}`, otherSecret, algNone, expired, 'garbage']) {
      const res = await apiClient(server.baseUrl, token)('GET', '/auth/me');
      expect(res.status).toBe(401);
      expect(['AUTH_1002', 'AUTH_1003']).toContain(res.body.error.code);
    }
    expect((await apiClient(server.baseUrl, expired)('GET', '/auth/me')).body.error.code).toBe('AUTH_1003');
  });

});

describe('registration by default', () => {
  it('lets the first account register as administrator, then closes registration with 403 AUTH_1004', async () => {
    const server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET });
    try {
      const anon = apiClient(server.baseUrl);
      expect((await anon('GET', '/config')).body).toMatchObject({ allow_registration: true, password_login: true, oidc: { enabled: false } });
      const first = await anon('POST', '/auth/register', { email: 'first@example.com', password: 'password1' });
      expect(first.status).toBe(201);
      expect(first.body.user.role).toBe('admin');
      expect((await anon('GET', '/config')).body.allow_registration).toBe(false);
      const res = await anon('POST', '/auth/register', { email: 'a@example.com', password: 'password1' });
      expect(res.status).toBe(403);
      expect(res.body.error).toMatchObject({ code: 'AUTH_1004', message: 'Registration is closed on this server; ask an administrator.' });
    } finally {
      await server.close();
    }
  });

  it('with ALLOW_REGISTRATION=true later accounts register as normal users', async () => {
    const server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET, ALLOW_REGISTRATION: 'true' });
    try {
      const anon = apiClient(server.baseUrl);
      expect((await anon('POST', '/auth/register', { email: 'one@example.com', password: 'password1' })).body.user.role).toBe('admin');
      const second = await anon('POST', '/auth/register', { email: 'two@example.com', password: 'password1' });
      expect(second.status).toBe(201);
      expect(second.body.user.role).toBe('user');
      expect((await anon('GET', '/config')).body.allow_registration).toBe(true);
    } finally {
      await server.close();
    }
  });
});

describe('login rate limit', () => {
  it('limits login attempts per IP to 10 a minute, and the refusal says when to try again', async () => {
    const server = await startTestServer({ AUTH_MODE: 'jwt', JWT_SECRET: SECRET });
    try {
      const anon = apiClient(server.baseUrl);
      const results: number[] = [];
      for (let i = 0; i < 10; i++) results.push((await anon('POST', '/auth/login', { email: 'x@example.com', password: 'whatever1' })).status);
      expect(results).toEqual(Array(10).fill(401));
      const refused = await anon('POST', '/auth/login', { email: 'x@example.com', password: 'whatever1' });
      expect(refused.status).toBe(429);
      expect(refused.body.error.code).toBe('AUTH_1007');
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(refused.body.error.retry_after).toBe(retryAfter);
      expect(refused.body.error.message).toBe(`Too many attempts; try again in ${retryAfter} s.`);
    } finally {
      await server.close();
    }
  });
});
