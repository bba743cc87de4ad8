/**
 * Keeps shutdown bounded when WebSocket peers misbehave. Closing a WebSocket is a handshake: the
 * server sends a close frame and waits for the peer's. A peer that stopped reading (or ignores the
 * frame) never answers, and the WebSocket server — and so the whole shutdown — would wait for it
 * until the process is killed, skipping the database and MCP close hooks.
 *
 * Once shutdown starts, connections that are still closing after `graceMs` are terminated
 * (their TCP socket destroyed). Peers that answer in time close normally; a running turn still
 * gets its own wait (src/chat) because only sockets already in their closing handshake are cut.
 */
import type { FastifyInstance } from 'fastify';
import type { WebSocket, WebSocketServer } from 'ws';

export const SOCKET_CLOSE_GRACE_MS = 2_500;
const SWEEP_MS = 250;

export function terminateStuckSocketsOnClose(app: FastifyInstance, graceMs = SOCKET_CLOSE_GRACE_MS): void {
  let sweep: NodeJS.Timeout | undefined;
  const closingSince = new Map<WebSocket, number>();
  let terminated = 0;

  app.addHook('preClose', (done) => {
    // Registered with the server itself, this runs before the WebSocket plugin's own preClose.
    const wss = (app as FastifyInstance & { websocketServer?: WebSocketServer }).websocketServer;
    if (!wss) {
      done();
      return;
    }
    sweep = setInterval(() => {
      const now = Date.now();
      for (const client of wss.clients) {
        if (client.readyState !== client.CLOSING) continue;
        const since = closingSince.get(client) ?? now;
        closingSince.set(client, since);
        if (now - since >= graceMs) {
          closingSince.delete(client);
          terminated++;
          client.terminate();
        }
      }
    }, SWEEP_MS);
    sweep.unref();
    done();
  });

  app.addHook('onClose', (_instance, done) => {
    clearInterval(sweep);
    if (terminated > 0) {
      app.log.warn({ terminated, grace_ms: graceMs }, `closed ${terminated} WebSocket connection(s) that did not finish closing within ${graceMs} ms`);
    }
    done();
  });
}
