/** Request ids: a client's `X-Request-ID` is kept when it is safe, else a new one is made. */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const SAFE_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

export function requestIdFrom(header: string | string[] | undefined): string {
  const value = Array.isArray(header) ? header[0] : header;
  return value !== undefined && SAFE_REQUEST_ID.test(value) ? value : randomUUID();
}

export function genReqId(req: IncomingMessage): string {
  return requestIdFrom(req.headers['x-request-id']);
}
