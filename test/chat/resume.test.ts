/**
 * `resume` on one connection (stub socket, fake timers): the missed events of a turn come first,
 * then its live ones, never twice and never out of order; a turn that is not kept gets RES_3001.
 * And the one-server memory log `resume` reads: bounded per turn, pruned after the grace period.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionRegistry } from '../../src/chat/connections.js';
import { LocalEventBus, MemoryEventLog } from '../../src/chat/event-bus.js';
import type { ResumeFrame, ServerEvent } from '../../src/chat/events.js';
import { RESUME_WINDOW_MS, type SocketConnection } from '../../src/chat/ws-connection.js';
import { StubSocket, stubConnection } from './stub-socket.js';


const delta = (turn: string, seq: number, content = `d${seq} `): ServerEvent => ({ type: 'assistant_delta', content, session_id: 'chat_u', turn_id: turn, seq });

describe('resume on one connection', () => {
  let socket: StubSocket;
  let conn: SocketConnection;
  let replay: (frame: ResumeFrame) => Promise<ServerEvent[] | undefined>;
  let release: (events: ServerEvent[] | undefined) => void;

  beforeEach(() => {
    vi.useFakeTimers();
    socket = new StubSocket();
    conn = stubConnection(socket);
    replay = () => new Promise((resolve) => (release = resolve));
    conn.activate({ onMessage: () => undefined, onInterrupt: () => undefined, isBusy: () => true, replay: (f) => replay(f) });
  });
  afterEach(() => {
    conn.dispose();
    vi.useRealTimers();
  });

  const deliver = (e: ServerEvent) => conn.deliver(e, JSON.stringify(e));
  const received = () => socket.sent.map((d) => JSON.parse(d) as ServerEvent);
  const frame = (data: unknown) => conn.receive(Buffer.from(JSON.stringify(data)), false);

  it('sends the missed events, then the live ones that arrived meanwhile, each once and in order', async () => {
    // Live events of the turn arrive before and during the replay.
    deliver(delta('t1', 6));
    frame({ type: 'resume', turn_id: 't1', after_seq: 3 });
    deliver(delta('t1', 7));
    expect(socket.sent).toEqual([]);
    release([4, 5, 6, 7].map((s) => delta('t1', s)));
    await vi.waitFor(() => expect(received().map((e) => e.seq)).toEqual([4, 5, 6, 7]));
    deliver(delta('t1', 7));
    deliver(delta('t1', 8));
    expect(received().map((e) => e.seq)).toEqual([4, 5, 6, 7, 8]);
  });

  it('lets events of other turns and session events through while it replays', async () => {
    frame({ type: 'resume', turn_id: 't1', after_seq: 0 });
    deliver(delta('t2', 1));
    conn.deliver({ type: 'session_updated', title: 'x', session_id: 'chat_u' }, '{"type":"session_updated","title":"x","session_id":"chat_u"}');
    expect(received().map((e) => e.type)).toEqual(['assistant_delta', 'session_updated']);
    release([delta('t1', 1)]);
    await vi.waitFor(() => expect(received()).toHaveLength(3));
  });

  it('answers a turn that is not kept with a recoverable RES_3001 and goes live', async () => {
    frame({ type: 'resume', turn_id: 'gone', after_seq: 2 });
    release(undefined);
    await vi.waitFor(() => expect(received()[0]).toMatchObject({ type: 'error', code: 'RES_3001', recoverable: true, request_id: 'req-1' }));
    deliver(delta('gone', 3));
    expect(received().at(-1)?.seq).toBe(3);
  });

  it('answers a failed read with a recoverable error instead of closing', async () => {
    replay = () => Promise.reject(new Error('database down'));
    frame({ type: 'resume', turn_id: 't1', after_seq: 2 });
    await vi.waitFor(() => expect(received()[0]).toMatchObject({ type: 'error', code: 'DB_8002', recoverable: true }));
    expect(socket.readyState).toBe(1);
  });

  it('holds live turn events back only until the first frame or the resume window', () => {
    deliver(delta('t1', 1));
    expect(socket.sent).toEqual([]);
    vi.advanceTimersByTime(RESUME_WINDOW_MS);
    expect(received().map((e) => e.seq)).toEqual([1]);
    deliver(delta('t1', 2));
    expect(received().map((e) => e.seq)).toEqual([1, 2]);
  });

  it('a first frame that is not resume releases held events at once', () => {
    deliver(delta('t1', 1));
    frame({ type: 'ping' });
    expect(received().map((e) => e.type)).toEqual(['assistant_delta', 'pong']);
  });

  it('rejects a resume frame with bad fields as a bad frame', () => {
    frame({ type: 'resume', turn_id: '', after_seq: -1 });
    expect(received()[0]).toMatchObject({ type: 'error', code: 'WS_6002' });
  });
});

describe('the one-server event log', () => {
  it('replays a turn after a seq, only to its own session', () => {
    const log = new MemoryEventLog();
    for (let s = 1; s <= 5; s++) log.record('u', delta('t1', s));
    expect(log.read('u', 't1', 2)?.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.read('u', 't1', 5)).toEqual([]);
    expect(log.read('other-session', 't1', 0)).toBeUndefined();
    expect(log.read('u', 'unknown', 0)).toBeUndefined();
  });

  it('keeps the newest events of a long turn and says when the asked ones are gone', () => {
    const log = new MemoryEventLog(60_000, 3);
    for (let s = 1; s <= 5; s++) log.record('u', delta('t1', s));
    expect(log.read('u', 't1', 2)?.map((e) => e.seq)).toEqual([3, 4, 5]);
    expect(log.read('u', 't1', 1)).toBeUndefined();
  });

  it('forgets a finished turn after the grace period, and the oldest finished turn when full', () => {
    let now = 0;
    const log = new MemoryEventLog(1_000, 100, 2, () => now);
    log.record('u', delta('t1', 1));
    log.record('u', { type: 'assistant_end', finish_reason: 'stop', session_id: 'chat_u', turn_id: 't1', seq: 2 });
    now = 500;
    log.record('u', delta('t2', 1));
    expect(log.read('u', 't1', 0)).toHaveLength(2);
    now = 1_600;
    log.record('u', delta('t3', 1));
    const kept = (...turns: string[]) => turns.map((t) => log.read('u', t, 0) !== undefined);
    expect(kept('t1', 't2', 't3')).toEqual([false, true, true]);
    // Full with running turns only: the oldest of them goes.
    log.record('u', delta('t4', 1));
    expect(kept('t2', 't3', 't4')).toEqual([false, true, true]);
  });

  it('when full, drops only as many finished turns as it must, oldest first, and keeps running ones', () => {
    const now = 0;
    const end = (turn: string, seq: number): ServerEvent => ({ type: 'assistant_end', finish_reason: 'stop', session_id: 'chat_u', turn_id: turn, seq });
    const log = new MemoryEventLog(10_000, 100, 3, () => now);
    log.record('u', delta('running', 1));
    log.record('u', delta('done1', 1));
    log.record('u', end('done1', 2));
    log.record('u', delta('done2', 1));
    log.record('u', end('done2', 2));
    // Session events have no turn: nothing to keep for a resume.
    log.record('u', { type: 'pong', session_id: 'chat_u' });
    expect(log.read('u', 'done1', 0)).toHaveLength(2);

    log.record('u', delta('new', 1));
    expect(log.read('u', 'new', 0)).toHaveLength(1);
    expect(log.read('u', 'done1', 0)).toBeUndefined();
    expect(log.read('u', 'done2', 0)).toHaveLength(2);
    expect(log.read('u', 'running', 0)).toHaveLength(1);
  });

  it('keeps a finished turn for exactly the grace period', () => {
    let now = 5_000;
    const log = new MemoryEventLog(1_000, 100, 10, () => now);
    log.record('u', delta('t1', 1));
    log.record('u', { type: 'assistant_end', finish_reason: 'stop', session_id: 'chat_u', turn_id: 't1', seq: 2 });
    now = 6_000;
    log.record('u', delta('t2', 1));
    expect(log.read('u', 't1', 0)).toHaveLength(2);
    now = 6_001;
    log.record('u', delta('t3', 1));
    expect(log.read('u', 't1', 0)).toBeUndefined();
    expect(log.read('u', 't2', 0)).toHaveLength(1);
  });

  it('keeps a turn that ended twice (paused, then gone on) for the grace period from its last end', () => {
    let now = 0;
    const end = (seq: number, finish: 'paused' | 'stop'): ServerEvent => ({ type: 'assistant_end', finish_reason: finish, session_id: 'chat_u', turn_id: 't1', seq });
    const log = new MemoryEventLog(1_000, 100, 10, () => now);
    log.record('u', delta('t1', 1));
    log.record('u', end(2, 'paused'));
    now = 900;
    log.record('u', delta('t1', 3));
    log.record('u', end(4, 'stop'));
    now = 1_500;
    log.record('u', delta('t2', 1));
    expect(log.read('u', 't1', 0)?.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    now = 1_901;
    log.record('u', delta('t3', 1));
    expect(log.read('u', 't1', 0)).toBeUndefined();
    expect(log.read('u', 't2', 0)).toHaveLength(1);
  });

  it('the local bus records turn events and sends every event to the session', async () => {
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 10, maxConnectionsPerUser: 100 });
    const inbox: string[] = [];
    registry.add({ sessionUuid: 'u', userId: 'alice', sessionId: 'chat_u', send: (d) => void inbox.push(d), close: () => undefined });
    const bus = new LocalEventBus(registry);
    bus.publish('u', delta('t1', 1));
    bus.publish('u', { type: 'session_updated', title: 'T', session_id: 'chat_u' });
    expect(inbox).toHaveLength(2);
    expect(await bus.replay('u', 't1', 0)).toHaveLength(1);
    await bus.close();
  });
});
