/**
 * Images and files sent with a message, through the whole server: uploaded files attached to a
 * `message` frame reach the fake model as image parts on both APIs and both adapters, shrunk to
 * IMAGE_MAX_EDGE; the user row keeps its attachments across a reload; refusals start no turn.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServerEvent } from '../../src/chat/events.js';
import { TestClient } from './harness.js';
import { apiClient } from '../support/api.js';
import { startFakeOpenAI, type FakeOpenAI, type RecordedRequest } from '../support/fake-openai.js';
import { startTestServer, type TestServer } from '../support/server.js';

interface Harness {
  server: TestServer;
  api: ReturnType<typeof apiClient>;
  sessionId: string;
  client: TestClient;
}

async function openSession(server: TestServer): Promise<Harness> {
  const api = apiClient(server.baseUrl);
  const created = await api('POST', '/sessions', { title: 'Pictures' });
  expect(created.status).toBe(201);
  const sessionId: string = created.body.session_id;
  const client = await TestClient.open(`${server.wsUrl}/ws/chat/${sessionId}`);
  return { server, api, sessionId, client };
}

async function upload(h: Harness, name: string, bytes: Buffer, type: string): Promise<void> {
  const form = new FormData();
  form.append('folder', 'input');
  form.append('file', new Blob([new Uint8Array(bytes)], { type }), name);
  const res = await fetch(`${h.server.baseUrl}/api/v1/sessions/${h.sessionId}/files`, { method: 'POST', body: form });
  expect(res.status).toBe(201);
}

/** Sends one message with attachments; resolves with its turn's events. */
async function send(h: Harness, content: string, files: string[], model?: string): Promise<ServerEvent[]> {
  const from = h.client.events.length;
  h.client.send({ type: 'message', messages: [{ content }], attachments: files.map((file) => ({ file })), ...(model ? { model } : {}) });
  return h.client.turn(from);
}

/** Sends a message that must be refused: resolves with the `error` event (no turn starts). */
async function refused(h: Harness, files: string[], model?: string): Promise<ServerEvent> {
  const from = h.client.events.length;
  h.client.send({ type: 'message', messages: [{ content: 'look' }], attachments: files.map((file) => ({ file })), ...(model ? { model } : {}) });
  const error = await h.client.waitForType('error', from);
  // The next frame's turn is the first one after the refusal: nothing started in between.
  expect(h.client.events.slice(from).some((e) => e.type === 'assistant_start')).toBe(false);
  return error;
}

/** The image data URLs of the request's user messages, for either API. */
function imageUrls(request: RecordedRequest): string[] {
  const urls: string[] = [];
  const messages: Array<{ role?: string; content?: unknown }> = request.api === 'chat_completions' ? request.body.messages : request.body.input;
  for (const m of messages) {
    if (m.role !== 'user' || !Array.isArray(m.content)) continue;
    for (const part of m.content as Array<Record<string, unknown>>) {
      if (request.api === 'chat_completions' && part.type === 'image_url') urls.push((part.image_url as { url: string }).url);
      if (request.api === 'responses' && part.type === 'input_image') urls.push(part.image_url as string);
    }
  }
  return urls;
}

async function decoded(dataUrl: string): Promise<{ format: string | undefined; width: number | undefined; height: number | undefined }> {
  const meta = await sharp(Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64')).metadata();
  return { format: meta.format, width: meta.width, height: meta.height };
}

const widePng = () => sharp({ create: { width: 3000, height: 1000, channels: 3, background: { r: 200, g: 40, b: 40 } } }).png().toBuffer();
const smallJpeg = () => sharp({ create: { width: 40, height: 30, channels: 3, background: { r: 0, g: 90, b: 200 } } }).jpeg().toBuffer();

const modes = [
  { api: 'chat_completions', adapter: 'native' },
  { api: 'chat_completions', adapter: 'sdk' },
  { api: 'responses', adapter: 'native' },
  { api: 'responses', adapter: 'sdk' },
] as const;

describe.each(modes)('an image attachment on $api through the $adapter adapter', ({ api, adapter }) => {
  let fake: FakeOpenAI;
  let h: Harness;

  beforeAll(async () => {
    fake = await startFakeOpenAI();
    fake.setHandler(() => ({ steps: [{ type: 'text', deltas: ['a red rectangle'] }] }));
    const server = await startTestServer({
      OPENAI_BASE_URL: fake.baseUrl,
      OPENAI_API_KEY: 'test',
      LLM_PROVIDER: 'openai',
      OPENAI_API_MODE: api,
      LLM_ADAPTER: adapter,
      DEFAULT_MODEL: 'gpt-4o-mini',
      MODELS: 'gpt-4o-mini,gpt-3.5-turbo',
    });
    h = await openSession(server);
    await upload(h, 'wide.png', await widePng(), 'image/png');
    await upload(h, 'notes.txt', Buffer.from('remember the milk\n'), 'text/plain');
  });

  afterAll(async () => {
    h?.client.ws.terminate();
    await h?.server.close();
    await fake?.close();
  });

  it('the model gets the image as an image part, shrunk to 2048 px, and the text names the other file', async () => {
    const events = await send(h, 'What is in this picture?', ['input/wide.png', 'input/notes.txt']);
    expect(events.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
    const request = fake.requests.at(-1)!;
    expect(request.api).toBe(api);
    const [url, ...more] = imageUrls(request);
    expect(more).toEqual([]);
    expect(url).toMatch(/^data:image\/png;base64,/);
    expect(await decoded(url!)).toEqual({ format: 'png', width: 2048, height: 683 });
    expect(JSON.stringify(request.body)).toContain('Attached: input/notes.txt (text/plain');
    expect(JSON.stringify(request.body)).toContain('[image: input/wide.png]');
  });

  it('the next turn still carries the image from the stored context', async () => {
    const events = await send(h, 'And now?', []);
    expect(events.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
    expect(imageUrls(fake.requests.at(-1)!)).toHaveLength(1);
  });

  it('a reload shows the attachments on the user message', async () => {
    const res = await h.api('GET', `/sessions/${h.sessionId}/messages`);
    expect(res.status).toBe(200);
    const messages: Array<{ role: string; content: string; attachments?: unknown }> = res.body.messages ?? res.body.data ?? res.body;
    const asked = messages.find((m) => m.role === 'user' && m.content === 'What is in this picture?');
    expect(asked?.attachments).toEqual([
      { file: 'input/wide.png', content_type: 'image/png', size: expect.any(Number) },
      { file: 'input/notes.txt', content_type: 'text/plain', size: 18 },
    ]);
    expect(messages.find((m) => m.content === 'And now?')?.attachments).toBeUndefined();
  });

  it('a model that cannot see images gets VAL_2070 and no turn, and the model is never called', async () => {
    const before = fake.requests.length;
    const error = await refused(h, ['input/wide.png'], 'gpt-3.5-turbo');
    expect(error).toMatchObject({ code: 'VAL_2070', recoverable: true });
    expect(fake.requests.length).toBe(before);
    // A text file is fine for a text model: it is only named in the message.
    const events = await send(h, 'Read it', ['input/notes.txt'], 'gpt-3.5-turbo');
    expect(events.find((e) => e.type === 'assistant_end')).toMatchObject({ finish_reason: 'stop' });
    // The session is on the text model now: a frame without `model` is checked against it.
    expect(await refused(h, ['input/wide.png'])).toMatchObject({ code: 'VAL_2070' });
    expect(fake.requests.length).toBe(before + 1);
  });

  it('a summary replaces the image by its label and later requests no longer carry it', async () => {
    await send(h, 'One more', []);
    await send(h, 'And another', []);
    const from = fake.requests.length;
    const res = await h.api('POST', `/sessions/${h.sessionId}/summarize`);
    expect(res.status).toBe(200);
    const summaryRequest = JSON.stringify(fake.requests.slice(from).at(-1)?.body);
    expect(summaryRequest).toContain('[image: input/wide.png]');
    expect(summaryRequest).not.toContain('data:image');
    await send(h, 'Still there?', []);
    expect(imageUrls(fake.requests.at(-1)!)).toEqual([]);
  });
});

describe('attachments that are refused, and the offline model', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await openSession(await startTestServer({ LLM_PROVIDER: 'offline' }));
    await upload(h, 'small.jpg', await smallJpeg(), 'image/jpeg');
    await upload(h, 'broken.png', Buffer.from('not an image at all'), 'image/png');
  });

  afterAll(async () => {
    h?.client.ws.terminate();
    await h?.server.close();
  });

  it('a path outside the workspace is refused with FILE_5004 and starts no turn', async () => {
    expect(await refused(h, ['../../etc/passwd'])).toMatchObject({ code: 'FILE_5004', recoverable: true });
    expect(await refused(h, ['/etc/passwd'])).toMatchObject({ code: 'FILE_5004' });
    expect(await refused(h, ['input/%2e%2e/x.png'])).toMatchObject({ code: 'FILE_5004' });
    // Only input/ and output/: not the session folder's other files.
    expect(await refused(h, ['notes.txt'])).toMatchObject({ code: 'FILE_5004' });
  });

  it('a missing file is VAL_2071 and an undecodable image VAL_2073; neither starts a turn', async () => {
    const missing = await refused(h, ['input/nope.png']);
    expect(missing).toMatchObject({ code: 'VAL_2071' });
    expect(String((missing as { message: string }).message)).toContain('input/nope.png');
    expect(await refused(h, ['input/broken.png'])).toMatchObject({ code: 'VAL_2073' });
    const res = await h.api('GET', `/sessions/${h.sessionId}/messages`);
    expect(JSON.stringify(res.body)).not.toContain('"look"');
  });

  it('more than 10 attachments are refused by the frame schema', async () => {
    const from = h.client.events.length;
    h.client.send({ type: 'message', messages: [{ content: 'x' }], attachments: Array.from({ length: 11 }, () => ({ file: 'input/small.jpg' })) });
    expect(await h.client.waitForType('error', from)).toMatchObject({ code: 'WS_6002' });
  });

  it('the offline model names the image type and size it received; a file named twice is sent once', async () => {
    const jpeg = await smallJpeg();
    const events = await send(h, 'What is this?', ['input/small.jpg', './input/small.jpg']);
    const text = events
      .map((e) => (e.type === 'assistant_delta' ? e.content : ''))
      .join('');
    expect(text).toContain(`received image (image/jpeg, ${jpeg.length} bytes)`);
    expect(text).toContain('cannot see');
  });
});
