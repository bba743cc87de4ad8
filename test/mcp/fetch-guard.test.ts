import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { parseFetchAllowList, type Resolve } from '../../src/mcp/fetch-guard.js';
import { fetchPage, FetchPageError } from '../../src/mcp/fetch-page.js';

const REFUSED = /is private\/internal .* not allowed; an operator can allow it with FETCH_ALLOWED_HOSTS/;

/** A resolver that answers from a table, so no test depends on DNS. */
const resolveFrom =
  (table: Record<string, string[]>): Resolve =>
  async (hostname) => {
    const addresses = table[hostname];
    if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };

describe('the fetch tool stays on public addresses', () => {
  let server: Server;
  let port: number;
  const seen: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.url ?? '');
      if (req.url === '/to-metadata') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
      } else if (req.url === '/to-loopback-v6') {
        res.writeHead(302, { location: `http://[::1]:${port}/secret` }).end();
      } else {
        res.setHeader('content-type', 'text/plain');
        res.end('internal secret');
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));

  const get = (url: string, options: Parameters<typeof fetchPage>[3] = {}) =>
    fetchPage(url, new AbortController().signal, { maxBytes: 10_000, maxRedirects: 3, timeoutMs: 5_000 }, options);

  const forms = () => [
    `http://127.0.0.1:${port}/secret`,
    `http://2130706433:${port}/secret`,
    `http://0x7f000001:${port}/secret`,
    `http://0177.0.0.1:${port}/secret`,
    `http://127.1:${port}/secret`,
    `http://[::1]:${port}/secret`,
    `http://[::ffff:127.0.0.1]:${port}/secret`,
    `http://[::ffff:7f00:1]:${port}/secret`,
    `http://[::]:${port}/secret`,
    `http://0.0.0.0:${port}/secret`,
    `http://0:${port}/secret`,
    'http://10.0.0.1/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[::ffff:169.254.169.254]/latest/meta-data/',
    'http://100.64.0.1/',
    'http://100.100.100.200/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[fd00:ec2::254]/latest/meta-data/',
    'http://[fc00::1]/',
    'http://224.0.0.1/',
    'http://[ff02::1]/',
    'http://255.255.255.255/',
    'https://[64:ff9b::7f00:1]/',
  ];

  it('refuses every notation of a loopback, private, link-local, CGNAT, multicast or metadata address', async () => {
    for (const url of forms()) {
      await expect(get(url), url).rejects.toThrow(REFUSED);
    }
    expect(seen).toEqual([]);
  });

  it('refuses a public-looking name that resolves to 127.0.0.1, and one with any private address among its addresses', async () => {
    const resolve = resolveFrom({ 'news.example': ['127.0.0.1'], 'mixed.example': ['93.184.216.34', '10.1.2.3'] });
    await expect(get(`http://news.example:${port}/secret`, { resolve })).rejects.toThrow(/127\.0\.0\.1 \(of news\.example\) is private\/internal/);
    await expect(get(`http://mixed.example:${port}/secret`, { resolve })).rejects.toThrow(/10\.1\.2\.3 \(of mixed\.example\)/);
    await expect(get(`http://localhost:${port}/secret`)).rejects.toThrow(REFUSED);
    expect(seen).toEqual([]);
  });

  it('refuses a redirect from an allowed host to an internal one', async () => {
    const allow = parseFetchAllowList('127.0.0.1');
    await expect(get(`http://127.0.0.1:${port}/to-metadata`, { allow })).rejects.toThrow(/169\.254\.169\.254 is private\/internal/);
    await expect(get(`http://127.0.0.1:${port}/to-loopback-v6`, { allow })).rejects.toThrow(/::1 is private\/internal/);
    expect(seen.splice(0)).toEqual(['/to-metadata', '/to-loopback-v6']);
  });

  it('fetches what the operator allowed, by address, by range or by name, from the address that was checked', async () => {
    expect((await get(`http://127.0.0.1:${port}/a`, { allow: parseFetchAllowList('127.0.0.1') })).text).toBe('internal secret');
    expect((await get(`http://127.1:${port}/b`, { allow: parseFetchAllowList('example.org, 127.0.0.0/8') })).text).toBe('internal secret');
    // `intranet.test` exists only in the injected resolver: reaching the server proves the socket used its answer.
    const resolve = resolveFrom({ 'intranet.test': ['127.0.0.1'] });
    expect((await get(`http://intranet.test:${port}/c`, { allow: parseFetchAllowList('Intranet.Test'), resolve })).text).toBe('internal secret');
    expect(seen.splice(0)).toEqual(['/a', '/b', '/c']);
  });

  it('says clearly when a name does not resolve', async () => {
    const err: unknown = await get('http://nowhere.test/', { resolve: resolveFrom({}) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FetchPageError);
    expect((err as Error).message).toMatch(/Could not fetch http:\/\/nowhere\.test\/: .*ENOTFOUND/);
  });

  it('FETCH_ALLOWED_HOSTS must be host names or CIDR ranges', () => {
    expect(() => loadConfig({ FETCH_ALLOWED_HOSTS: '10.0.0.0/99' })).toThrow(/FETCH_ALLOWED_HOSTS must list host names or CIDR ranges/);
    expect(loadConfig({ FETCH_ALLOWED_HOSTS: 'wiki.internal, 10.0.0.0/8' }).network.fetchAllowedHosts).toBe('wiki.internal, 10.0.0.0/8');
  });
});
