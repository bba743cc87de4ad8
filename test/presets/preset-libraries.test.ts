/**
 * Presets carrying libraries through a real server: a session made from the preset searches them,
 * another user's library is refused with nothing saved, and a later change of the preset or a
 * deleted library leaves sessions and the preset working.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient } from '../support/api.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;

async function register(email: string) {
  const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123' });
  return apiClient(server.baseUrl, res.body.access_token as string);
}

async function library(api: ReturnType<typeof apiClient>, name: string): Promise<string> {
  const res = await api('POST', '/libraries', { name });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

async function sessionLibraries(sessionId: string): Promise<string[]> {
  const res = await alice('GET', `/sessions/${sessionId}/libraries`);
  expect(res.status).toBe(200);
  return res.body.library_ids as string[];
}

beforeAll(async () => {
  server = await startTestServer({
    AUTH_MODE: 'jwt',
    JWT_SECRET: 'preset-libraries-secret-at-least-32-chars!',
    AUTH_RATE_LIMIT_PER_MIN: '1000',
    ALLOW_REGISTRATION: 'true',
    USER_WRITES_PER_MIN: '0',
  });
  alice = await register('alice@preset-libraries.test');
  bob = await register('bob@preset-libraries.test');
});
afterAll(async () => {
  await server?.close();
});

describe('presets with libraries', () => {
  it('attaches its libraries to a session made from it, copied: a later PATCH leaves the session alone', async () => {
    const manuals = await library(alice, 'Manuals');
    const notes = await library(alice, 'Notes');
    const preset = await alice('POST', '/presets', { name: 'Support', library_ids: [manuals] });
    expect(preset.status).toBe(201);
    expect(preset.body.library_ids).toEqual([manuals]);
    expect((await alice('GET', `/presets/${preset.body.id}`)).body.library_ids).toEqual([manuals]);

    const session = await alice('POST', '/sessions', { preset_id: preset.body.id });
    expect(session.status).toBe(201);
    expect(await sessionLibraries(session.body.session_id)).toEqual([manuals]);

    const patched = await alice('PATCH', `/presets/${preset.body.id}`, { library_ids: [notes] });
    expect(patched.status).toBe(200);
    expect(patched.body.library_ids).toEqual([notes]);
    expect(await sessionLibraries(session.body.session_id)).toEqual([manuals]);

    const later = await alice('POST', '/sessions', { preset_id: preset.body.id });
    expect(await sessionLibraries(later.body.session_id)).toEqual([notes]);
  });

  it("takes the request's library_ids over the preset's", async () => {
    const fromPreset = await library(alice, 'Preset library');
    const own = await library(alice, 'Own library');
    const preset = await alice('POST', '/presets', { name: 'Explicit wins', library_ids: [fromPreset] });
    const session = await alice('POST', '/sessions', { preset_id: preset.body.id, library_ids: [own] });
    expect(session.status).toBe(201);
    expect(await sessionLibraries(session.body.session_id)).toEqual([own]);
    const none = await alice('POST', '/sessions', { preset_id: preset.body.id, library_ids: [] });
    expect(await sessionLibraries(none.body.session_id)).toEqual([]);
  });

  it("refuses another user's library with 404 RES_3040 and saves nothing", async () => {
    const bobs = await library(bob, 'Bob private');
    const created = await alice('POST', '/presets', { name: 'Stolen', library_ids: [bobs] });
    expect(created.status).toBe(404);
    expect(created.body.error.code).toBe('RES_3040');
    const names = (await alice('GET', '/presets')).body.presets.map((p: { name: string }) => p.name);
    expect(names).not.toContain('Stolen');

    const mine = await library(alice, 'Mine');
    const preset = await alice('POST', '/presets', { name: 'Kept', library_ids: [mine] });
    const patched = await alice('PATCH', `/presets/${preset.body.id}`, { name: 'Renamed', library_ids: [mine, bobs] });
    expect(patched.status).toBe(404);
    expect(patched.body.error.code).toBe('RES_3040');
    const after = await alice('GET', `/presets/${preset.body.id}`);
    expect(after.body).toMatchObject({ name: 'Kept', library_ids: [mine] });

    const malformed = await alice('POST', '/presets', { name: 'Malformed', library_ids: ['not-a-uuid'] });
    expect(malformed.status).toBe(404);
    const tooMany = await alice('POST', '/presets', { name: 'Too many', library_ids: Array.from({ length: 51 }, () => mine) });
    expect(tooMany.status).toBe(422);
  });

  it('skips a deleted library: the preset still reads and still makes sessions', async () => {
    const kept = await library(alice, 'Kept library');
    const gone = await library(alice, 'Gone library');
    const preset = await alice('POST', '/presets', { name: 'Survivor', library_ids: [gone, kept] });
    expect(preset.body.library_ids).toEqual([gone, kept]);
    expect((await alice('DELETE', `/libraries/${gone}`)).status).toBe(200);
    expect((await alice('GET', `/presets/${preset.body.id}`)).body.library_ids).toEqual([kept]);
    const session = await alice('POST', '/sessions', { preset_id: preset.body.id });
    expect(session.status).toBe(201);
    expect(await sessionLibraries(session.body.session_id)).toEqual([kept]);
  });
});
