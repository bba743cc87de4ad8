/**
 * Refuses requests a browser was tricked into sending.
 *
 * DNS rebinding: a page on `attacker.example` re-points its own name at 127.0.0.1 and then talks
 * to Pulp as "same origin" — the browser still sends `Host: attacker.example`. So only expected
 * Host names are accepted: loopback names, the configured HOST, PUBLIC_URL's host and
 * ALLOWED_HOSTS. (`ALLOWED_HOSTS=*` turns this off, for a proxy that rewrites Host.)
 *
 * Cross-origin requests: any page may open a WebSocket to Pulp or POST a form to it. When the
 * browser says where the request comes from (`Origin`), a WebSocket upgrade or a state-changing
 * request (POST, PUT, PATCH, DELETE) must come from Pulp's own origin or an allowed one. Clients
 * that send no Origin (curl, scripts, the test suite) are not browsers and pass.
 *
 * It runs as an `onRequest` hook, which WebSocket upgrades pass through too (@fastify/websocket
 * routes them through Fastify before upgrading), so a refused upgrade is an HTTP 403.
 */
import { isIP } from 'node:net';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../errors/app-error.js';

export interface HostCheckOptions {
  /** HOST as configured (the listen address). */
  host?: string | undefined;
  /** PUBLIC_URL, the address users reach Pulp at. */
  publicUrl?: string | undefined;
  /** ALLOWED_HOSTS entries: host names (optionally with `:port`), or `*`. */
  allowedHosts?: string[] | undefined;
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
const WILDCARD_LISTEN = new Set(['0.0.0.0', '::', '[::]']);

/** The host name of a Host header or URL host, lower-cased, without port, brackets or final dot. */
export function hostName(hostHeader: string): string {
  const trimmed = hostHeader.trim().toLowerCase();
  const bracketed = /^\[([^\]]*)\]/.exec(trimmed);
  const name = bracketed ? bracketed[1]! : trimmed.replace(/:\d*$/, '');
  return name.replace(/\.$/, '');
}

function isLoopbackName(name: string): boolean {
  if (name === 'localhost' || name.endsWith('.localhost') || name === '::1') return true;
  return isIP(name) === 4 && name.startsWith('127.');
}

/** The default port of a scheme, so `https://x` and `https://x:443` compare equal. */
function withPort(host: string, protocol: string): string {
  if (/:\d+$/.test(host) && !host.endsWith(']')) return host;
  return `${host}:${protocol === 'https:' || protocol === 'wss:' ? 443 : 80}`;
}

export function createHostCheck(options: HostCheckOptions) {
  const extra = (options.allowedHosts ?? []).map((h) => h.trim().toLowerCase()).filter(Boolean);
  const allowAll = extra.includes('*');
  // Names from ALLOWED_HOSTS and HOST: accepted as Host and as Origin on any port.
  // A bare IPv6 address (`fd00::5`) is a name as it is: its last group is not a port.
  const hasPort = (h: string) => isIP(h) === 0 && /:\d+$/.test(h) && !h.endsWith(']');
  const asName = (h: string) => (isIP(h) !== 0 ? h : hostName(h));
  const names = new Set(extra.filter((h) => !hasPort(h)).map(asName));
  const hostPorts = new Set(extra.filter(hasPort));
  const listenHost = options.host?.trim().toLowerCase();
  const listensEverywhere = listenHost !== undefined && WILDCARD_LISTEN.has(listenHost);
  if (listenHost && !listensEverywhere) names.add(asName(listenHost));
  // PUBLIC_URL: its name is accepted as Host, and exactly its origin as Origin.
  let publicName: string | undefined;
  let publicOrigin: string | undefined;
  if (options.publicUrl) {
    const url = new URL(options.publicUrl);
    publicName = hostName(url.host);
    publicOrigin = `${url.protocol}//${withPort(url.host, url.protocol)}`;
  }

  /** Whether a Host header names this server. */
  function hostAllowed(hostHeader: string): boolean {
    if (allowAll) return true;
    const name = hostName(hostHeader);
    if (name === '') return false;
    if (isLoopbackName(name) || names.has(name) || name === publicName || hostPorts.has(hostHeader.trim().toLowerCase())) return true;
    // Listening on every interface, users reach the server by any of its addresses; an address
    // literal cannot be re-pointed by DNS, so it cannot carry a rebinding attack.
    return listensEverywhere && isIP(name) !== 0;
  }

  /** Whether an Origin header is this server's own origin (the request's Host) or an allowed one. */
  function originAllowed(origin: string, hostHeader: string): boolean {
    if (allowAll) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // `null` (sandboxed frames, file:) and anything unparsable
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    const originHostPort = withPort(url.host, url.protocol);
    // The Host header carries no scheme: a same-origin request has the same host and port.
    if (originHostPort === withPort(hostHeader.trim().toLowerCase(), url.protocol)) return true;
    if (publicOrigin === `${url.protocol}//${originHostPort}`) return true;
    // A named host the operator declared, on any port; loopback names only on the request's own port,
    // or any local page (another dev server on localhost:3000) could drive this one.
    const name = hostName(url.host);
    return (names.has(name) && !isLoopbackName(name)) || hostPorts.has(url.host);
  }

  /**
   * A refused upgrade is answered on the raw socket, which no one else closes afterwards (the
   * WebSocket plugin only closes sockets it saw in its own hook, which a refusal skips).
   */
  function closeAfterAnswer(request: FastifyRequest, reply: FastifyReply): void {
    if (request.headers.upgrade === undefined) return;
    reply.header('connection', 'close');
    reply.raw.once('finish', () => request.raw.socket.end());
  }

  return async function hostCheck(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const host = request.headers.host ?? '';
    if (!hostAllowed(host)) {
      closeAfterAnswer(request, reply);
      throw new AppError(
        'AUTH_1010',
        `Host "${host}" is not one this server answers to; an operator can add it to ALLOWED_HOSTS or set PUBLIC_URL.`,
      );
    }
    const origin = request.headers.origin;
    if (origin === undefined) return;
    const upgrade = request.headers.upgrade?.toLowerCase() === 'websocket';
    if ((upgrade || STATE_CHANGING.has(request.method)) && !originAllowed(origin, host)) {
      closeAfterAnswer(request, reply);
      throw new AppError(
        'AUTH_1011',
        `Requests from the page at ${origin} are not allowed; an operator can add its host to ALLOWED_HOSTS or set PUBLIC_URL.`,
      );
    }
  };
}
