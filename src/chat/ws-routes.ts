/**
 * GET /ws/chat/:session_id (protocol: docs/protocol.md): the thin Fastify layer. Authenticates in `preValidation`
 * (before the upgrade completes), accepts the socket and closes it with 4401/4403/4404/4503 when
 * refused (so browsers see the code), and shuts down in `preClose`. The work is in ChatService
 * and SocketConnection.
 */
import websocket from '@fastify/websocket';
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { AppError, isAppError } from '../errors/app-error.js';
import type { PulpFastify } from '../http/server.js';
import type { SessionRow } from '../sessions/types.js';
import { ChatService, type ChatDeps } from './chat-service.js';
import { prepareAttachments, type PreparedAttachments } from './attachments.js';
import { resolveBranch, type TurnBranch } from './branch.js';
import type { TurnFrame } from './events.js';
import { SocketConnection } from './ws-connection.js';

export type { ChatDeps } from './chat-service.js';

/** Frames over 1 MiB close the connection with 1009 (done by `ws`). */
export const WS_MAX_PAYLOAD = 1024 * 1024;

export const CLOSE_NO_TOKEN = 4401;
export const CLOSE_BAD_TOKEN = 4403;
export const CLOSE_NO_SESSION = 4404;
export const CLOSE_UNAVAILABLE = 4503;
/** The user already has WS_MAX_CONNECTIONS_PER_USER sockets open on this server. */
export const CLOSE_TOO_MANY_FOR_USER = 4429;

type Handshake = { ok: true; session: SessionRow; userId: string; userEmail: string } | { ok: false; code: number; reason: string };

/** The session's model as stored now. */
async function currentModel(deps: ChatDeps, session: SessionRow): Promise<string> {
  const { rows } = await deps.db.query<{ model: string }>('SELECT model FROM sessions WHERE id = $1', [session.id]);
  return rows[0]?.model ?? session.model;
}

/** The bearer token from `Sec-WebSocket-Protocol: bearer, <token>`, else from `?token=`. */
export function tokenFrom(request: Pick<FastifyRequest, 'headers' | 'query'>): string | undefined {
  const header = request.headers['sec-websocket-protocol'];
  if (typeof header === 'string') {
    const parts = header.split(',').map((p) => p.trim());
    const i = parts.indexOf('bearer');
    const token = i >= 0 ? parts[i + 1] : undefined;
    if (token) return token;
  }
  const query = request.query as Record<string, unknown> | undefined;
  const fromQuery = query?.token;
  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : undefined;
}

/**
 * Registers @fastify/websocket (with the 1 MiB limit, the `bearer` subprotocol and the ordered
 * shutdown) and the chat route. Returns the service for /health counts and REST interrupts.
 */
export async function registerChatSocket(app: PulpFastify, deps: ChatDeps): Promise<ChatService> {
  const chat = new ChatService(deps);
  const log = deps.logger.child({ module: 'chat-ws' });
  const handshakes = new WeakMap<FastifyRequest, Handshake>();

  await app.register(websocket, {
    options: {
      maxPayload: WS_MAX_PAYLOAD,
      handleProtocols: (protocols: Set<string>) => (protocols.has('bearer') ? 'bearer' : false),
    },
    preClose: async () => {
      await chat.shutdown();
      await new Promise<void>((resolve) => app.websocketServer.close(() => resolve()));
    },
  });

  app.get<{ Params: { session_id: string } }>(
    '/ws/chat/:session_id',
    {
      websocket: true,
      schema: { hide: true },
      preValidation: async (request) => {
        handshakes.set(request, await handshake(request));
      },
    },
    (socket: WebSocket, request) => {
      const outcome = handshakes.get(request) ?? { ok: false, code: CLOSE_UNAVAILABLE, reason: 'Not ready' };
      handshakes.delete(request);
      if (!outcome.ok) {
        socket.close(outcome.code, outcome.reason);
        return;
      }
      const { session, userId, userEmail } = outcome;
      const conn = new SocketConnection(socket, {
        sessionUuid: session.id,
        sessionId: session.session_id,
        userId,
        requestId: request.id,
        idleTimeoutMs: deps.config.ws.idleTimeoutS * 1000,
        pingIntervalMs: deps.config.ws.pingIntervalS * 1000,
        logger: log,
      });
      // Listeners first, before anything else can happen on this socket.
      socket.on('message', (data, isBinary) => conn.receive(data, isBinary));
      socket.on('close', () => {
        conn.dispose();
        chat.removeConnection(conn);
        deps.metrics.wsConnections.set(chat.connectionCounts().connections);
      });
      socket.on('error', (err) => log.debug({ err }, 'socket error'));
      if (chat.closing) return conn.close(CLOSE_UNAVAILABLE, 'Server shutting down');
      const added = chat.addConnection(conn);
      if (added === 'user_limit') return conn.close(CLOSE_TOO_MANY_FOR_USER, `Too many connections for this user (${deps.config.ws.maxConnectionsPerUser}); close another tab`);
      if (added === 'limit') return conn.close(CLOSE_UNAVAILABLE, 'Connection limit reached');
      deps.metrics.wsConnections.set(chat.connectionCounts().connections);
      // A refused message (an unknown parent or message id, a per-user limit) is told to the user
      // (code, why, when to retry) and starts nothing.
      const admitThenStart = async (frame: TurnFrame) => {
        let branch: TurnBranch;
        let attachments: PreparedAttachments | undefined;
        try {
          branch = await resolveBranch(deps.db, session.id, frame.type === 'regenerate' ? { regenerateOf: frame.message_id } : { parentId: frame.parent_id });
          await deps.admitMessage?.(userId, session.id);
          // After the per-user limits: reading and shrinking images is the costly part of a message.
          if (frame.type === 'message' && frame.attachments?.length && deps.sessionRoot) {
            const { llm } = deps.config;
            // The session's model now (a PATCH or an earlier frame may have changed it since the handshake).
            const model = frame.model ?? (await currentModel(deps, session));
            const options = { root: deps.sessionRoot(session.session_id), model, capabilities: llm.capabilities, imageMaxEdge: llm.imageMaxEdge };
            attachments = await prepareAttachments(frame.attachments, options);
          }
        } catch (err) {
          if (!isAppError(err)) log.error({ err }, 'checking the message (its branch, the per-user limits, its attachments) failed');
          const refusal = isAppError(err) ? err : new AppError('INT_9001', 'Your message could not be checked and was not sent; send it again.');
          conn.sendEvent({
            type: 'error',
            code: refusal.code,
            message: refusal.message,
            recoverable: true,
            request_id: request.id,
            ...(refusal.retryAfterS !== undefined ? { retry_after: refusal.retryAfterS } : {}),
          });
          return;
        }
        await chat.startTurn({ session, frame, branch, requestId: request.id, ...(attachments ? { attachments } : {}) });
      };
      conn.activate({
        onMessage: (frame) => {
          // The operator's MODELS list binds the socket as it binds the REST routes: a frame may
          // only pick an offered model, or it would run on the operator's key with any model.
          if (frame.model !== undefined && !deps.config.llm.models.includes(frame.model)) {
            conn.sendEvent({
              type: 'error',
              code: 'VAL_2001',
              message: `Unknown model "${frame.model}"; choose one of ${deps.config.llm.models.join(', ')}. Nothing was sent.`,
              recoverable: true,
              request_id: request.id,
            });
            return;
          }
          admitThenStart(frame).catch((err: unknown) => log.error({ err }, 'turn crashed'));
        },
        onInterrupt: () => {
          // A paused turn has nothing running: the interrupt ends it (its waiting calls denied).
          if (!chat.interrupt(session.id)) deps.pauses?.endPaused(session.id, 'the user').catch((err: unknown) => log.error({ err }, 'ending the paused turn failed'));
        },
        onDecision: (frame) => {
          const decide = deps.decide?.(session, frame, userEmail) ?? Promise.reject(new AppError('RES_3060', 'Tool approval is not enabled.'));
          decide.catch((err: unknown) => {
            if (!isAppError(err)) log.error({ err }, 'deciding a tool call failed');
            const error = isAppError(err) ? err : new AppError('INT_9001', 'The decision could not be saved; send it again.');
            conn.sendEvent({ type: 'error', code: error.code, message: error.message, recoverable: true, request_id: request.id });
          });
        },
        replay: (frame) => chat.replay(session.id, frame),
        isBusy: () => chat.isRunning(session.id),
      });
    },
  );

  async function handshake(request: FastifyRequest): Promise<Handshake> {
    const publicId = (request.params as { session_id: string }).session_id;
    if (chat.closing) return { ok: false, code: CLOSE_UNAVAILABLE, reason: 'Server shutting down' };
    let userId: string;
    let userEmail: string;
    try {
      ({ id: userId, email: userEmail } = await deps.authenticate(tokenFrom(request)));
    } catch (err) {
      if (isAppError(err) && err.code === 'AUTH_1001') return { ok: false, code: CLOSE_NO_TOKEN, reason: 'Authentication required' };
      if (isAppError(err) && err.code === 'AUTH_1005') return { ok: false, code: CLOSE_BAD_TOKEN, reason: 'Account disabled' };
      if (isAppError(err) && err.code.startsWith('AUTH_')) return { ok: false, code: CLOSE_BAD_TOKEN, reason: 'Invalid or expired token' };
      log.error({ err }, 'authentication failed');
      return { ok: false, code: 1011, reason: 'Internal error' };
    }
    try {
      const session = await deps.findOwnedSession(userId, publicId);
      if (!session) return { ok: false, code: CLOSE_NO_SESSION, reason: 'Session not found' };
      return { ok: true, session, userId, userEmail };
    } catch (err) {
      log.error({ err }, 'session lookup failed');
      return { ok: false, code: 1011, reason: 'Internal error' };
    }
  }

  return chat;
}
