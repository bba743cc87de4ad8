/** The parts of a `ws` socket SocketConnection uses, recording what it did (no network). */
import { EventEmitter } from 'node:events';
import pino from 'pino';
import { SocketConnection, type SocketOptions } from '../../src/chat/ws-connection.js';

export class StubSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  sent: string[] = [];
  pings = 0;
  closedWith: number | undefined;
  closedReason: string | undefined;
  send(data: string) {
    this.sent.push(data);
  }
  ping() {
    this.pings += 1;
  }
  close(code: number, reason?: string) {
    this.closedWith = code;
    this.closedReason = reason;
    this.readyState = 3;
  }
  terminate() {
    this.readyState = 3;
  }
}

/** A SocketConnection on `socket` for session `chat_u`, with the given timing and logger. */
export function stubConnection(socket: StubSocket, options: Partial<SocketOptions> = {}): SocketConnection {
  return new SocketConnection(socket as never, {
    sessionUuid: 'u',
    userId: 'alice',
    sessionId: 'chat_u',
    requestId: 'req-1',
    idleTimeoutMs: 60_000,
    pingIntervalMs: 30_000,
    logger: pino({ level: 'silent' }),
    ...options,
  });
}
