import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionRegistry, type ChatConnection } from '../../src/chat/connections.js';
import type { ServerEvent } from '../../src/chat/events.js';
import type { SocketConnection } from '../../src/chat/ws-connection.js';
import { StubSocket, stubConnection } from './stub-socket.js';

function fakeConn(sessionUuid: string, inbox: string[] = [], userId = 'alice'): ChatConnection {
  return { sessionUuid, userId, sessionId: `chat_${sessionUuid}`, send: (d) => void inbox.push(d), close: () => undefined };
}

describe('connection registry', () => {
  it('enforces the total and per-session limits and frees a place on remove', () => {
    const registry = new ConnectionRegistry({ maxConnections: 3, maxConnectionsPerSession: 2, maxConnectionsPerUser: 100 });
    const a1 = fakeConn('a');
    expect(registry.add(a1)).toBe('ok');
    expect(registry.add(fakeConn('a'))).toBe('ok');
    expect(registry.add(fakeConn('a'))).toBe('limit');
    expect(registry.add(fakeConn('b'))).toBe('ok');
    expect(registry.add(fakeConn('c'))).toBe('limit');
    expect(registry.counts()).toEqual({ connections: 3, sessions: 2 });
    registry.remove(a1);
    expect(registry.counts()).toEqual({ connections: 2, sessions: 2 });
    registry.remove(a1);
    expect(registry.counts()).toEqual({ connections: 2, sessions: 2 });
    expect(registry.add(fakeConn('c'))).toBe('ok');
  });

  it("stops one user at their own limit while others still get in, and frees the user's place on remove", () => {
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 5, maxConnectionsPerUser: 2 });
    const first = fakeConn('a', [], 'alice');
    expect(registry.add(first)).toBe('ok');
    expect(registry.add(fakeConn('b', [], 'alice'))).toBe('ok');
    expect(registry.add(fakeConn('c', [], 'alice'))).toBe('user_limit');
    expect(registry.add(fakeConn('a', [], 'bob'))).toBe('ok');
    expect([registry.countForUser('alice'), registry.countForUser('bob')]).toEqual([2, 1]);
    registry.remove(first);
    registry.remove(first);
    expect(registry.countForUser('alice')).toBe(1);
    expect(registry.add(fakeConn('c', [], 'alice'))).toBe('ok');
    expect(registry.counts()).toEqual({ connections: 3, sessions: 3 });
  });

  it('forgets a session when its last connection goes', () => {
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 2, maxConnectionsPerUser: 100 });
    const a = fakeConn('a');
    const b = fakeConn('b');
    registry.add(a);
    registry.add(b);
    registry.remove(b);
    expect(registry.counts()).toEqual({ connections: 1, sessions: 1 });
    registry.remove(fakeConn('c'));
    expect(registry.counts()).toEqual({ connections: 1, sessions: 1 });
  });

  it("sends a session's events to every connection of that session and no other", () => {
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 3, maxConnectionsPerUser: 100 });
    const one: string[] = [];
    const two: string[] = [];
    const other: string[] = [];
    registry.add(fakeConn('s', one));
    registry.add(fakeConn('s', two));
    registry.add(fakeConn('t', other));
    const event: ServerEvent = { type: 'assistant_start', session_id: 'chat_s', turn_id: 't1', seq: 1 };
    registry.publish('s', event);
    registry.publish('nobody', event);
    expect(one).toEqual([JSON.stringify(event)]);
    expect(two).toEqual(one);
    expect(other).toEqual([]);
  });

  it('hands events from another server to a resuming connection with their JSON as received, and counts per session', () => {
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 3, maxConnectionsPerUser: 100 });
    const plain: string[] = [];
    const resuming: Array<[string, string]> = [];
    registry.add(fakeConn('s', plain));
    const resumer: ChatConnection = { ...fakeConn('s'), deliver: (event, data) => void resuming.push([event.type, data]) };
    registry.add(resumer);
    expect(registry.add(resumer)).toBe('ok');
    const event: ServerEvent = { type: 'assistant_start', session_id: 'chat_s', turn_id: 't1', seq: 1 };
    const asReceived = '{"type":"assistant_start","session_id":"chat_s","turn_id":"t1","seq":1}';
    registry.deliver('s', event, asReceived);
    registry.deliver('nobody', event, asReceived);
    expect(plain).toEqual([asReceived]);
    expect(resuming).toEqual([['assistant_start', asReceived]]);
    expect(registry.countFor('s')).toBe(2);
    expect(registry.countFor('nobody')).toBe(0);
    expect(registry.counts()).toEqual({ connections: 2, sessions: 1 });
    expect(registry.all()).toHaveLength(2);
  });
});


describe('socket keepalive and idle close', () => {
  let now = 0;
  let socket: StubSocket;
  let conn: SocketConnection;
  let busy = false;
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    busy = false;
    socket = new StubSocket();
    conn = stubConnection(socket, { idleTimeoutMs: 10_000, pingIntervalMs: 3_000, now: () => now });
    conn.activate({ onMessage: () => undefined, onInterrupt: () => undefined, isBusy: () => busy });
  });
  afterEach(() => {
    conn.dispose();
    vi.useRealTimers();
  });
  const advance = (ms: number) => {
    now += ms;
    vi.advanceTimersByTime(ms);
  };

  it('pings every interval and closes with 4000 when neither side spoke for the idle timeout', () => {
    advance(9_000);
    expect(socket.pings).toBe(3);
    expect(socket.sent.map((d) => JSON.parse(d).type)).toEqual(['ping', 'ping', 'ping']);
    expect(socket.closedWith).toBeUndefined();
    advance(1_000);
    expect([socket.closedWith, socket.closedReason]).toEqual([4000, 'Idle']);
  });

  it('an inbound frame resets the idle clock', () => {
    advance(8_000);
    conn.receive(Buffer.from(JSON.stringify({ type: 'ping' })), false);
    advance(8_000);
    expect(socket.closedWith).toBeUndefined();
    advance(2_000);
    expect(socket.closedWith).toBe(4000);
  });

  it('a connection whose session is streaming a turn is never idle', () => {
    busy = true;
    advance(30_000);
    expect(socket.closedWith).toBeUndefined();
    busy = false;
    advance(10_000);
    expect(socket.closedWith).toBe(4000);
  });
});

describe('frames on one socket', () => {
  let now = 0;
  let socket: StubSocket;
  let conn: SocketConnection;
  let onMessage: (frame: unknown) => void;
  let interrupts = 0;
  const logged: Array<{ msg?: string }> = [];
  beforeEach(() => {
    vi.useFakeTimers();
    now = 0;
    interrupts = 0;
    logged.length = 0;
    onMessage = () => undefined;
    socket = new StubSocket();
    conn = stubConnection(socket, {
      requestId: 'req-7',
      idleTimeoutMs: 600_000,
      pingIntervalMs: 300_000,
      logger: pino({ level: 'debug' }, { write: (line: string) => void logged.push(JSON.parse(line)) }),
      now: () => now,
    });
    conn.activate({ onMessage: (f) => onMessage(f), onInterrupt: () => (interrupts += 1), isBusy: () => false });
  });
  afterEach(() => {
    conn.dispose();
    vi.useRealTimers();
  });
  const json = (frame: unknown) => Buffer.from(JSON.stringify(frame));
  const received = () => socket.sent.map((d) => JSON.parse(d) as Record<string, unknown>);

  it('says what is wrong with a bad frame, naming the field', () => {
    conn.receive(Buffer.from('{}'), true);
    conn.receive(Buffer.from('not json'), false);
    conn.receive(json({ type: 'message', messages: [{ content: '' }] }), false);
    conn.receive(json({ type: 'message', messages: [{ content: 'hi' }], extra: 1 }), false);
    const errors = received();
    expect(errors.map((e) => e.code)).toEqual(['WS_6002', 'WS_6002', 'WS_6002', 'WS_6002']);
    expect(errors[0]).toEqual({ type: 'error', code: 'WS_6002', message: 'Frames must be JSON text.', recoverable: true, request_id: 'req-7', session_id: 'chat_u' });
    expect(errors[1]!.message).toBe('The frame is not valid JSON.');
    expect(errors[2]!.message).toMatch(/^messages\.0\.content: ./);
    expect(errors[3]!.message).toMatch(/extra/);
  });

  it('reads a frame that arrives in pieces or as an ArrayBuffer, and routes each type', () => {
    const ping = JSON.stringify({ type: 'ping' });
    conn.receive([Buffer.from(ping.slice(0, 5)), Buffer.from(ping.slice(5))], false);
    const bytes = new TextEncoder().encode(JSON.stringify({ type: 'interrupt' }));
    conn.receive(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength), false);
    const messages: unknown[] = [];
    onMessage = (f) => messages.push(f);
    conn.receive(json({ type: 'message', messages: [{ content: 'hi' }] }), false);
    expect(received()).toEqual([{ type: 'pong', session_id: 'chat_u' }]);
    expect(interrupts).toBe(1);
    expect(messages).toEqual([{ type: 'message', messages: [{ content: 'hi' }] }]);
  });

  it('counts bad frames over the last minute only: the 21st within a minute closes with 4429', () => {
    for (let i = 0; i < 20; i++) conn.receive(Buffer.from('x'), false);
    now += 60_000;
    conn.receive(Buffer.from('x'), false);
    expect(socket.closedWith).toBeUndefined();
    for (let i = 0; i < 19; i++) conn.receive(Buffer.from('x'), false);
    expect(socket.closedWith).toBeUndefined();
    conn.receive(Buffer.from('x'), false);
    expect(socket.closedWith).toBe(4429);
    expect(received()).toHaveLength(40);
    conn.receive(json({ type: 'ping' }), false);
    expect(received()).toHaveLength(40);
  });

  it('a frame that is not an object is refused without a field name; the close after too many says why', () => {
    conn.receive(json('hi'), false);
    const [error] = received();
    expect(error!.code).toBe('WS_6002');
    expect(String(error!.message)).toMatch(/^[A-Z]/);
    for (let i = 0; i < 20; i++) conn.receive(Buffer.from('x'), false);
    expect([socket.closedWith, socket.closedReason]).toEqual([4429, 'Too many bad frames']);
  });

  it('session events and turn events without a seq are never held back, even before the first frame', () => {
    conn.deliver({ type: 'session_updated', title: 'T', session_id: 'chat_u' }, '{"type":"session_updated"}');
    conn.deliver({ type: 'assistant_start', session_id: 'chat_u', turn_id: 'turn_x' }, '{"type":"assistant_start"}');
    conn.deliver({ type: 'assistant_start', session_id: 'chat_u', turn_id: 'turn_y', seq: 1 }, '{"held":true}');
    expect(socket.sent).toEqual(['{"type":"session_updated"}', '{"type":"assistant_start"}']);
    conn.receive(json({ type: 'ping' }), false);
    expect(socket.sent).toEqual(['{"type":"session_updated"}', '{"type":"assistant_start"}', '{"held":true}', '{"type":"pong","session_id":"chat_u"}']);
  });

  it('drops a turn event it already sent, and remembers the last seq of the 8 most recent turns', () => {
    conn.receive(json({ type: 'ping' }), false);
    socket.sent.length = 0;
    const event = (turn: number, seq: number) => ({ type: 'assistant_delta' as const, content: 'x', session_id: 'chat_u', turn_id: `t${turn}`, seq });
    conn.deliver(event(0, 1), 't0#1');
    conn.deliver(event(0, 1), 't0#1 again');
    conn.deliver(event(0, 2), 't0#2');
    for (let t = 1; t <= 8; t++) conn.deliver(event(t, 1), `t${t}#1`);
    // t0 is forgotten now: its first event is not known to have been sent any more.
    conn.deliver(event(0, 1), 't0#1 after forgetting');
    expect(socket.sent).toEqual(['t0#1', 't0#2', 't1#1', 't2#1', 't3#1', 't4#1', 't5#1', 't6#1', 't7#1', 't8#1', 't0#1 after forgetting']);
  });

  it('a frame whose handling throws gets INT_9001 and the connection stays open', () => {
    onMessage = () => {
      throw new Error('handler broke');
    };
    conn.receive(json({ type: 'message', messages: [{ content: 'hi' }] }), false);
    expect(received()).toEqual([
      { type: 'error', code: 'INT_9001', message: 'The frame could not be handled.', recoverable: true, request_id: 'req-7', session_id: 'chat_u' },
    ]);
    expect(logged.map((l) => l.msg)).toContain('handling a frame failed');
    expect(conn.closed).toBe(false);
  });

  it('sends nothing once closed or when the socket is no longer open, and terminates a socket that cannot close', () => {
    socket.readyState = 2;
    conn.sendEvent({ type: 'pong' });
    expect(socket.sent).toEqual([]);
    socket.readyState = 1;
    let terminated = false;
    socket.close = () => {
      throw new Error('already closing');
    };
    socket.terminate = () => {
      terminated = true;
    };
    conn.close(4000, 'Idle');
    expect(terminated).toBe(true);
    expect(conn.closed).toBe(true);
    expect(logged.map((l) => l.msg)).toContain('closing a socket failed');
    conn.sendEvent({ type: 'pong' });
    expect(socket.sent).toEqual([]);
  });
});
