/**
 * HTTP(S) GET for the fetch server, with limits: only http and https, only public addresses
 * (`fetch-guard.ts`; every redirect hop is checked again), at most `maxRedirects` redirects, at
 * most `maxBytes` of body (the rest is cut, and said so), and one overall time bound that cancels
 * the request. HTML becomes markdown-like text.
 *
 * It uses undici's own `fetch` and `Agent` so the socket's `lookup` is the guarded one.
 */
import { Agent, fetch, type Response } from 'undici';
import { AddressRefusedError, checkUrlHost, guardedLookup, systemResolve, type FetchAllowList, type Resolve } from './fetch-guard.js';
import { htmlTitle, htmlToText } from './html-to-text.js';

export interface FetchLimits {
  maxBytes: number;
  maxRedirects: number;
  timeoutMs: number;
}

export const DEFAULT_FETCH_LIMITS: FetchLimits = { maxBytes: 5 * 1024 * 1024, maxRedirects: 5, timeoutMs: 30_000 };

export interface FetchedPage {
  url: string;
  status: number;
  contentType: string;
  title: string | undefined;
  text: string;
  truncated: boolean;
}

/** A failure the model should read: bad URL, HTTP error status, unsupported content, limits. */
export class FetchPageError extends Error {
  override name = this.constructor.name;
}

const TEXTUAL = /^(text\/|application\/(json|xml|xhtml\+xml|javascript|ld\+json|rss\+xml|atom\+xml)|[^;]*\+(json|xml))/i;

function checkUrl(raw: string, allow: FetchAllowList, base?: string): URL {
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    throw new FetchPageError(`Not a valid URL: ${raw}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new FetchPageError(`Only http and https URLs can be fetched (got ${url.protocol}).`);
  }
  try {
    checkUrlHost(url, allow);
  } catch (err) {
    throw err instanceof AddressRefusedError ? new FetchPageError(err.message) : err;
  }
  return url;
}

async function readCapped(response: Response, maxBytes: number): Promise<{ bytes: Uint8Array; truncated: boolean }> {
  // undici types the body as a stream of `any`; it carries bytes.
  const reader = (response.body as ReadableStream<Uint8Array> | null)?.getReader();
  if (!reader) return { bytes: new Uint8Array(), truncated: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (size + value.byteLength > maxBytes) {
      chunks.push(value.subarray(0, maxBytes - size));
      size = maxBytes;
      truncated = true;
      await reader.cancel().catch(() => undefined);
      break;
    }
    chunks.push(value);
    size += value.byteLength;
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return { bytes, truncated };
}

function decode(bytes: Uint8Array, contentType: string): string {
  const charset = /charset=["']?([\w-]+)/i.exec(contentType)?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}

/** GETs `rawUrl` within `limits`; throws `FetchPageError` with a message for the model. */
export async function fetchPage(
  rawUrl: string,
  signal: AbortSignal,
  limits: FetchLimits = DEFAULT_FETCH_LIMITS,
  options: { raw?: boolean; allow?: FetchAllowList; resolve?: Resolve } = {},
): Promise<FetchedPage> {
  const allow = options.allow ?? { hosts: new Set<string>(), ranges: [] };
  let url = checkUrl(rawUrl, allow);
  const bounded = AbortSignal.any([signal, AbortSignal.timeout(limits.timeoutMs)]);
  const dispatcher = new Agent({ connect: { lookup: guardedLookup(allow, options.resolve ?? systemResolve) } });
  try {
    for (let redirects = 0; ; redirects++) {
      const response = await fetch(url, {
        dispatcher,
        redirect: 'manual',
        signal: bounded,
        headers: {
          'user-agent': 'Pulp-Fetch/1.0',
          accept: 'text/html,application/xhtml+xml,text/plain,application/json;q=0.9,*/*;q=0.5',
        },
      });
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        await response.body?.cancel().catch(() => undefined);
        if (redirects >= limits.maxRedirects) throw new FetchPageError(`Too many redirects (more than ${limits.maxRedirects}).`);
        url = checkUrl(location, allow, url.href);
        continue;
      }
      const contentType = response.headers.get('content-type') ?? 'text/plain';
      if (!response.ok) {
        await response.body?.cancel().catch(() => undefined);
        throw new FetchPageError(`HTTP ${response.status} ${response.statusText} from ${url.href}`);
      }
      if (!TEXTUAL.test(contentType)) {
        await response.body?.cancel().catch(() => undefined);
        throw new FetchPageError(`Content type ${contentType.split(';')[0]} is not text; it cannot be shown.`);
      }
      const { bytes, truncated } = await readCapped(response, limits.maxBytes);
      const body = decode(bytes, contentType);
      const isHtml = /html/i.test(contentType) || /^\s*<(!doctype html|html)/i.test(body);
      return {
        url: url.href,
        status: response.status,
        contentType,
        title: isHtml ? htmlTitle(body) : undefined,
        text: isHtml && !options.raw ? htmlToText(body, url.href) : body,
        truncated,
      };
    }
  } catch (err) {
    if (err instanceof FetchPageError) throw err;
    if (signal.aborted) throw signal.reason;
    if (bounded.aborted) throw new FetchPageError(`Timed out after ${limits.timeoutMs} ms fetching ${url.href}`);
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause : err;
    if (cause instanceof AddressRefusedError) throw new FetchPageError(cause.message);
    throw new FetchPageError(`Could not fetch ${url.href}: ${cause instanceof Error ? cause.message : String(cause)}`);
  } finally {
    // Nothing is left to read once the page is returned or refused.
    void dispatcher.destroy().catch(() => undefined);
  }
}
