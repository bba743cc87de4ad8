/**
 * One chat WebSocket after the handshake: validates frames, answers bad ones with
 * WS_6002 and closes with 4429 after too many, keeps the connection alive (ping events and
 * WebSocket pings), closes it with 4000 when idle, and hands `message`/`interrupt` to the chat
 * service. Knows nothing of Fastify.
 */
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { z } from 'zod';
import type { ChatConnection } from './connections.js';
import { ClientFrameSchema, type DecisionFrame, type ResumeFrame, type TurnFrame, type ServerEvent, type SessionEventBody } from './events.js';
import { ResumeGate } from './resume-gate.js';

export const BAD_FRAME_LIMIT = 20;
export const BAD_FRAME_WINDOW_MS = 60_000;
export const CLOSE_IDLE = 4000;
export const CLOSE_TOO_MANY_BAD_FRAMES = 4429;
/**
 * A new connection holds back turn events until its first frame or this long: a `resume` sent right
 * after connecting must not find live events of its turn already sent ahead of the missed ones.
 */
export const RESUME_WINDOW_MS = 250;

export interface ConnectionHandlers {
  /** A `message` or `regenerate` frame: a turn to start. */
  onMessage(frame: TurnFrame): void;
  onInterrupt(): void;
  /** `approve` / `deny` of a tool call waiting for approval (src/approvals). */
  onDecision?(frame: DecisionFrame): void;
  /** Events of the turn after `after_seq`, in order; undefined when they are not kept. */
  replay?(frame: ResumeFrame): Promise<ServerEvent[] | undefined>;
  /** True while a turn of this session runs: a streaming connection is never idle. */
  isBusy(): boolean;
}

export interface SocketOptions {
  sessionUuid: string;
  sessionId: string;
  userId: string;
  requestId: string;
  idleTimeoutMs: number;
  pingIntervalMs: number;
  logger: Logger;
  now?: () => number;
}

function describeIssues(error: z.ZodError): string {
  const first = error.issues[0];
  if (!first) return 'The frame is not valid.';
  const where = first.path.length > 0 ? `${first.path.join('.')}: ` : '';
  return `${where}${first.message}`;
}

export class SocketConnection implements ChatConnection {
  readonly sessionUuid: string;
  readonly sessionId: string;
  readonly userId: string;
  #badFrames: number[] = [];
  #lastActivity: number;
  #idleTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #closed = false;
  #handlers: ConnectionHandlers | undefined;
  readonly #now: () => number;
  /** Holds turn events back around a resume; undefined until activated and after close. */
  #gate: ResumeGate | undefined;
  #heldTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: WebSocket,
    private readonly options: SocketOptions,
  ) {
    this.sessionUuid = options.sessionUuid;
    this.userId = options.userId;
    this.sessionId = options.sessionId;
    this.#now = options.now ?? Date.now;
    this.#lastActivity = this.#now();
  }

  /** Starts handling frames and timers. Frames that arrived before are handled by `receive` too. */
  activate(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    this.#gate = new ResumeGate((data) => this.send(data));
    this.#heldTimer = setTimeout(() => this.#release(), RESUME_WINDOW_MS).unref();
    this.#armIdle(this.options.idleTimeoutMs);
    this.#pingTimer = setInterval(() => this.#ping(), this.options.pingIntervalMs).unref();
  }

  get closed(): boolean {
    return this.#closed;
  }

  send(data: string): void {
    if (this.#closed || this.socket.readyState !== this.socket.OPEN) return;
    this.#lastActivity = this.#now();
    this.socket.send(data);
  }

  deliver(event: ServerEvent, data: string): void {
    const turnId = event.turn_id;
    if (turnId === undefined || event.seq === undefined || !this.#gate) return this.send(data);
    this.#gate.deliver(event, turnId, event.seq, data);
  }

  /** Ends the first hold (the first frame came, or the resume window passed). */
  #release(): void {
    if (this.#heldTimer) clearTimeout(this.#heldTimer);
    this.#heldTimer = undefined;
    this.#gate?.release();
  }

  /** `resume`: the missed events of one turn, then its live ones, without duplicates or gaps. */
  async #resume(frame: ResumeFrame): Promise<void> {
    const handlers = this.#handlers;
    const gate = this.#gate;
    if (!handlers?.replay || !gate) return;
    if (this.#heldTimer) clearTimeout(this.#heldTimer);
    this.#heldTimer = undefined;
    const hold = gate.begin(frame.turn_id);
    try {
      const events = await handlers.replay(frame);
      if (!events) {
        this.sendEvent({
          type: 'error',
          code: 'RES_3001',
          message: 'The events of that turn are no longer kept; reload the messages instead.',
          recoverable: true,
          request_id: this.options.requestId,
        });
        return;
      }
      gate.replayed(frame.turn_id, frame.after_seq, events);
    } catch (err) {
      this.options.logger.warn({ err }, 'resume failed');
      this.sendEvent({ type: 'error', code: 'DB_8002', message: 'The missed events could not be read; reload the messages.', recoverable: true, request_id: this.options.requestId });
    } finally {
      gate.finish(hold);
    }
  }

  sendEvent(body: SessionEventBody): void {
    const event: ServerEvent = { ...body, session_id: this.options.sessionId };
    this.send(JSON.stringify(event));
  }

  close(code: number, reason: string): void {
    if (this.#closed) return;
    this.dispose();
    try {
      this.socket.close(code, reason);
    } catch (err) {
      this.options.logger.debug({ err }, 'closing a socket failed');
      this.socket.terminate();
    }
  }

  /** Stops timers (the socket closed). */
  dispose(): void {
    this.#closed = true;
    if (this.#heldTimer) clearTimeout(this.#heldTimer);
    this.#gate = undefined;
    if (this.#idleTimer) clearTimeout(this.#idleTimer);
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    this.#idleTimer = undefined;
    this.#pingTimer = undefined;
  }

  /** Handles one inbound frame. Never throws. */
  receive(data: Buffer | ArrayBuffer | Buffer[], isBinary: boolean): void {
    if (this.#closed) return;
    this.#lastActivity = this.#now();
    try {
      const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
      if (isBinary) return this.#badFrame('Frames must be JSON text.');
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        return this.#badFrame('The frame is not valid JSON.');
      }
      const parsed = ClientFrameSchema.safeParse(json);
      if (!parsed.success) return this.#badFrame(describeIssues(parsed.error));
      const frame = parsed.data;
      if (frame.type === 'resume') {
        void this.#resume(frame);
        return;
      }
      // Any other first frame ends the hold-back window at once.
      if (this.#gate?.awaitingFirstFrame) this.#release();
      if (frame.type === 'ping') this.sendEvent({ type: 'pong' });
      else if (frame.type === 'interrupt') this.#handlers?.onInterrupt();
      else if (frame.type === 'approve' || frame.type === 'deny') this.#handlers?.onDecision?.(frame);
      else this.#handlers?.onMessage(frame);
    } catch (err) {
      this.options.logger.error({ err }, 'handling a frame failed');
      this.sendEvent({ type: 'error', code: 'INT_9001', message: 'The frame could not be handled.', recoverable: true, request_id: this.options.requestId });
    }
  }

  #badFrame(message: string): void {
    const now = this.#now();
    this.#badFrames = this.#badFrames.filter((t) => now - t < BAD_FRAME_WINDOW_MS);
    this.#badFrames.push(now);
    if (this.#badFrames.length > BAD_FRAME_LIMIT) {
      this.close(CLOSE_TOO_MANY_BAD_FRAMES, 'Too many bad frames');
      return;
    }
    this.sendEvent({ type: 'error', code: 'WS_6002', message, recoverable: true, request_id: this.options.requestId });
  }

  #ping(): void {
    // Keepalive frames do not count as activity, or a quiet connection would never be idle.
    const last = this.#lastActivity;
    this.send(JSON.stringify({ type: 'ping', session_id: this.options.sessionId } satisfies ServerEvent));
    this.#lastActivity = last;
    if (!this.#closed) this.socket.ping();
  }

  #armIdle(ms: number): void {
    this.#idleTimer = setTimeout(() => this.#checkIdle(), Math.max(ms, 1)).unref();
  }

  #checkIdle(): void {
    if (this.#closed) return;
    const idleFor = this.#now() - this.#lastActivity;
    if (this.#handlers?.isBusy()) return this.#armIdle(this.options.idleTimeoutMs);
    if (idleFor >= this.options.idleTimeoutMs) {
      this.close(CLOSE_IDLE, 'Idle');
      return;
    }
    this.#armIdle(this.options.idleTimeoutMs - idleFor);
  }
}
