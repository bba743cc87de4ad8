import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConnectionRegistry, type ChatConnection } from '../../src/chat/connections.js';
import type { ServerEvent } from '../../src/chat/events.js';
import { SocketConnection } from '../../src/chat/ws-connection.js';
import { StubSocket } from './stub-socket.js';

function fakeConn(sessionUuid: string, inbox: string[] = []): ChatConnection {
  return { sessionUuid, sessionId: `chat_${sessionUuid}`, send: (d) => void inbox.push(d), close: () => undefined };
}

describe('connection registry', () => {
  it('enforces the total and per-session limits and frees a place on remove', () => {
    const registry = new ConnectionRegistry({ maxConnections: 3, maxConnectionsPerSession: 2 });
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

  it('forgets a session when its last connection goes', () => {
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 2 });
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
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 3 });
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
    const registry = new ConnectionRegistry({ maxConnections: 10, maxConnectionsPerSession: 3 });
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
    conn = new SocketConnection(socket as never, {
      sessionUuid: 'u',
      sessionId: 'chat_u',
      requestId: 'req-1',
      idleTimeoutMs: 10_000,
      pingIntervalMs: 3_000,
      logger: pino({ level: 'silent' }),
      now: () => now,
    });
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
    expect(socket.closedWith).toBe(4000);
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
