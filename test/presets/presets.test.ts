/**
 * Presets, per-session instructions and the archive through a real server: presets are one
 * user's own, a session made from one copies it, and a session's instructions reach the model.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROMPT } from '../../src/chat/instructions.js';
import { TestClient } from '../chat/harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';

const SECRET = 'presets-test-secret-at-least-32-chars!!';

let fake: FakeOpenAI;
let server: TestServer;
let alice: ReturnType<typeof apiClient>;
let bob: ReturnType<typeof apiClient>;
const clients: TestClient[] = [];

async function register(email: string) {
  const res = await apiClient(server.baseUrl)('POST', '/auth/register', { email, password: 'password123' });
  return { api: apiClient(server.baseUrl, res.body.access_token as string), token: res.body.access_token as string };
}

let aliceToken: string;

beforeAll(async () => {
  fake = await startFakeOpenAI();
  server = await startTestServer({
    AUTH_MODE: 'jwt',
    JWT_SECRET: SECRET,
    AUTH_RATE_LIMIT_PER_MIN: '1000',
    ALLOW_REGISTRATION: 'true',
    USER_WRITES_PER_MIN: '0',
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: fake.baseUrl,
    OPENAI_API_KEY: 'test',
    OPENAI_API_MODE: 'responses',
    DEFAULT_MODEL: 'gpt-4o-mini',
    MODELS: 'gpt-4o-mini,gpt-4o',
  });
  const a = await register('alice@presets.test');
  alice = a.api;
  aliceToken = a.token;
  bob = (await register('bob@presets.test')).api;
});
afterEach(() => {
  for (const c of clients.splice(0)) c.ws.terminate();
});
afterAll(async () => {
  await server?.close();
  await fake?.close();
});

/** Sends one message in the session and returns the instructions of the model request it made. */
async function instructionsOfATurn(sessionId: string): Promise<string> {
  const client = await TestClient.open(`${server.wsUrl}/ws/chat/${sessionId}`, ['bearer', aliceToken]);
  clients.push(client);
  fake.enqueue({ steps: [{ type: 'text', deltas: ['Ok.'] }] });
  const from = client.events.length;
  client.message('hello');
  const turn = await client.turn(from);
  expect(turn.at(-1)).toMatchObject({ type: 'assistant_end', finish_reason: 'stop' });
  const chat = fake.requests.filter((r) => Array.isArray(r.body.tools) && r.body.tools.length > 0).at(-1);
  return String(chat?.body.instructions);
}

describe('per-session instructions', () => {
  it('are the session’s system prompt, with Pulp’s workspace notes after them, and apply from the next turn', async () => {
    const created = await alice('POST', '/sessions', { title: 'Pirate', instructions: 'Always answer like a pirate.' });
    expect(created.status).toBe(201);
    expect(created.body.instructions).toBe('Always answer like a pirate.');
    const first = await instructionsOfATurn(created.body.session_id);
    expect(first.startsWith('Always answer like a pirate.\n')).toBe(true);
    expect(first).not.toContain(DEFAULT_PROMPT);
    expect(first).toContain('You work in this session');

    const patched = await alice('PATCH', `/sessions/${created.body.session_id}`, { instructions: 'Answer in French.' });
    expect(patched.body.instructions).toBe('Answer in French.');
    expect(await instructionsOfATurn(created.body.session_id)).toMatch(/^Answer in French\.\n/);

    // Empty means the default prompt again.
    await alice('PATCH', `/sessions/${created.body.session_id}`, { instructions: '' });
    expect((await instructionsOfATurn(created.body.session_id)).startsWith(DEFAULT_PROMPT)).toBe(true);
  });

  it('accept 20 000 characters and refuse more with a VAL_ error naming the field', async () => {
    const longest = 'x'.repeat(20_000);
    const ok = await alice('POST', '/sessions', { instructions: longest });
    expect(ok.status).toBe(201);
    expect(ok.body.instructions).toBe(longest);
    const tooLong = await alice('POST', '/sessions', { instructions: `${longest}x` });
    expect(tooLong.status).toBe(422);
    expect(tooLong.body.error).toMatchObject({ code: 'VAL_2001', message: expect.stringContaining('instructions: must be at most 20000 characters') });
    const patched = await alice('PATCH', `/sessions/${ok.body.session_id}`, { instructions: `${longest}x` });
    expect(patched.status).toBe(422);
    expect((await alice('GET', `/sessions/${ok.body.session_id}`)).body.session.instructions).toBe(longest);
  });
});

describe('presets', () => {
  it('are created, listed by name, read, changed and deleted by their owner', async () => {
    const made = await alice('POST', '/presets', { name: 'Translator', instructions: 'Translate to German.', model: 'gpt-4o', reasoning_effort: 'low', mcp_config: [] });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ name: 'Translator', instructions: 'Translate to German.', model: 'gpt-4o', reasoning_effort: 'low', mcp_config: [] });
    const bare = await alice('POST', '/presets', { name: 'Bare' });
    expect(bare.body).toMatchObject({ name: 'Bare', instructions: '', model: null, reasoning_effort: null, mcp_config: null });

    const list = await alice('GET', '/presets');
    expect(list.body.presets.map((p: { name: string }) => p.name)).toEqual(['Bare', 'Translator']);
    expect((await alice('GET', `/presets/${made.body.id}`)).body).toEqual(made.body);

    const changed = await alice('PATCH', `/presets/${made.body.id}`, { name: 'German', model: null });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ id: made.body.id, name: 'German', model: null, instructions: 'Translate to German.' });

    expect((await alice('DELETE', `/presets/${bare.body.id}`)).status).toBe(204);
    expect((await alice('GET', `/presets/${bare.body.id}`)).status).toBe(404);
    expect((await alice('DELETE', `/presets/${made.body.id}`)).status).toBe(204);
  });

  it('answer 404 RES_3020 to another user on every route, exactly like a missing one', async () => {
    const { body } = await alice('POST', '/presets', { name: 'Private' });
    const routes: Array<[string, string, unknown?]> = [
      ['GET', `/presets/${body.id}`],
      ['PATCH', `/presets/${body.id}`, { name: 'Stolen' }],
      ['DELETE', `/presets/${body.id}`],
      ['POST', '/sessions', { preset_id: body.id }],
    ];
    const absent = '00000000-0000-4000-8000-000000000000';
    for (const [method, path, payload] of routes) {
      const foreign = await bob(method, path, payload);
      const missing = await bob(method, path.replace(body.id, absent), path === '/sessions' ? { preset_id: absent } : payload);
      expect(foreign.status, `${method} ${path}`).toBe(404);
      expect(foreign.body.error).toEqual({ ...missing.body.error, request_id: foreign.body.error.request_id, timestamp: foreign.body.error.timestamp, path: foreign.body.error.path });
      expect(foreign.body.error.code).toBe('RES_3020');
    }
    expect((await bob('GET', '/presets')).body.presets).toEqual([]);
    expect((await alice('GET', `/presets/${body.id}`)).body.name).toBe('Private');
    expect((await alice('GET', '/presets/not-a-uuid')).status).toBe(404);
  });

  it('are validated like a session’s settings, with unique names and a limit per user', async () => {
    const unknownModel = await alice('POST', '/presets', { name: 'X', model: 'gpt-9' });
    expect(unknownModel.status).toBe(422);
    expect(unknownModel.body.error.details[0]).toMatchObject({ field: 'model' });
    const unknownMcp = await alice('POST', '/presets', { name: 'X', mcp_config: ['nope'] });
    expect(unknownMcp.body.error.details[0]).toMatchObject({ field: 'mcp_config' });
    for (const bad of [{ name: '' }, { name: 'n'.repeat(101) }, { name: 'X', instructions: 'x'.repeat(20_001) }, { name: 'X', reasoning_effort: 'max' }, { name: 'X', owner: 'me' }]) {
      expect((await alice('POST', '/presets', bad)).status, JSON.stringify(bad).slice(0, 60)).toBe(422);
    }
    const first = await alice('POST', '/presets', { name: 'Twice' });
    const again = await alice('POST', '/presets', { name: 'Twice' });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('RES_3022');
    const other = await alice('POST', '/presets', { name: 'Other' });
    expect((await alice('PATCH', `/presets/${other.body.id}`, { name: 'Twice' })).body.error.code).toBe('RES_3022');
    // Another user may use the same name.
    expect((await bob('POST', '/presets', { name: 'Twice' })).status).toBe(201);

    const { rows } = await server.database.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM presets p JOIN users u ON u.id = p.user_id WHERE u.email = 'alice@presets.test'",
    );
    for (let i = rows[0]!.n; i < 100; i++) expect((await alice('POST', '/presets', { name: `Bulk ${i}` })).status).toBe(201);
    const over = await alice('POST', '/presets', { name: 'One too many' });
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({ code: 'RES_3021', message: expect.stringContaining('at most 100 presets') });
    for (const p of (await alice('GET', '/presets')).body.presets as Array<{ id: string }>) await alice('DELETE', `/presets/${p.id}`);
    expect(first.status).toBe(201);
  });

  it('make sessions that copy them: explicit fields win, and later changes to the preset leave the session alone', async () => {
    const preset = await alice('POST', '/presets', { name: 'Reviewer', instructions: 'Review code strictly.', model: 'gpt-4o', reasoning_effort: 'high', mcp_config: [] });
    const made = await alice('POST', '/sessions', { preset_id: preset.body.id });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ instructions: 'Review code strictly.', model: 'gpt-4o', reasoning_effort: 'high', mcp_config: [], title: null });
    expect((await instructionsOfATurn(made.body.session_id)).startsWith('Review code strictly.')).toBe(true);

    const overridden = await alice('POST', '/sessions', { preset_id: preset.body.id, model: 'gpt-4o-mini', instructions: 'Be kind.', title: 'Mine' });
    expect(overridden.body).toMatchObject({ instructions: 'Be kind.', model: 'gpt-4o-mini', reasoning_effort: 'high', title: 'Mine' });

    await alice('PATCH', `/presets/${preset.body.id}`, { instructions: 'Changed.', model: 'gpt-4o-mini' });
    await alice('DELETE', `/presets/${preset.body.id}`);
    const after = await alice('GET', `/sessions/${made.body.session_id}`);
    expect(after.body.session).toMatchObject({ instructions: 'Review code strictly.', model: 'gpt-4o' });
  });

  it('refuse a session from a preset whose model is no longer offered, unless the request names one', async () => {
    const preset = await alice('POST', '/presets', { name: 'Old model', model: 'gpt-4o' });
    // The operator removed gpt-4o since (as after a restart with another MODELS).
    await server.database.db.query("UPDATE presets SET model = 'gpt-3' WHERE id = $1", [preset.body.id]);
    const refused = await alice('POST', '/sessions', { preset_id: preset.body.id });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'VAL_2022', details: [{ field: 'preset_id' }] });
    expect(refused.body.error.message).toContain('gpt-3');
    const chosen = await alice('POST', '/sessions', { preset_id: preset.body.id, model: 'gpt-4o-mini' });
    expect(chosen.status).toBe(201);
  });
});

describe('the archive', () => {
  it('moves sessions out of the default list into ?archived=true and back', async () => {
    const { api } = await register('carol@presets.test');
    const ids: string[] = [];
    for (const title of ['One', 'Two', 'Three']) ids.push((await api('POST', '/sessions', { title })).body.session_id);
    const archived = await api('PATCH', `/sessions/${ids[1]}`, { archived: true });
    expect(archived.body).toMatchObject({ archived: true, title: 'Two' });

    const active = await api('GET', '/sessions');
    expect(active.body.sessions.map((s: { title: string }) => s.title)).toEqual(['Three', 'One']);
    expect(active.body.pagination.total_count).toBe(2);
    const only = await api('GET', '/sessions?archived=true');
    expect(only.body.sessions.map((s: { title: string; archived: boolean }) => [s.title, s.archived])).toEqual([['Two', true]]);
    expect(only.body.pagination.total_count).toBe(1);
    // An archived chat still opens.
    expect((await api('GET', `/sessions/${ids[1]}`)).body.session.archived).toBe(true);

    await api('PATCH', `/sessions/${ids[1]}`, { archived: false });
    expect((await api('GET', '/sessions')).body.sessions).toHaveLength(3);
    expect((await api('GET', '/sessions?archived=true')).body.sessions).toEqual([]);
    expect((await api('GET', '/sessions?archived=maybe')).status).toBe(422);
    expect((await bob('PATCH', `/sessions/${ids[0]}`, { archived: true })).status).toBe(404);
  });
});
