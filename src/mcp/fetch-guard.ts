/**
 * Keeps the `fetch` tool on the public internet. Any user can make the server request a URL, so
 * without this a URL could reach the server's own API, other services on its network, or a cloud
 * metadata endpoint (169.254.169.254) and hand their answers back to the user.
 *
 * Only public unicast addresses pass: `ipaddr.js` names the range of every address (loopback,
 * private, link-local, unique-local, CGNAT, multicast, unspecified, reserved, the IPv6 forms that
 * embed an IPv4 address…) and anything but `unicast` is refused. `ipaddr.process` turns
 * IPv4-mapped IPv6 into the IPv4 address it carries, and the WHATWG URL parser has already turned
 * decimal, octal, hex and short IPv4 forms (`2130706433`, `0x7f.1`, `127.1`) into dotted quads.
 *
 * Names are checked where the connection gets its address: `guardedLookup` is the `lookup` of the
 * socket, so the addresses that were checked are the ones connected to — a name that resolves to a
 * public address for a check and to 127.0.0.1 for the connection cannot slip through.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import type { LookupAddress } from 'node:dns';
import ipaddr from 'ipaddr.js';

/** Resolves a host name to all its addresses (injectable so tests need no DNS). */
export type Resolve = (hostname: string) => Promise<LookupAddress[]>;

export const systemResolve: Resolve = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/** Host names and CIDR ranges an operator allowed with `FETCH_ALLOWED_HOSTS`. */
export interface FetchAllowList {
  hosts: Set<string>;
  ranges: Array<[ipaddr.IPv4 | ipaddr.IPv6, number]>;
}

/** A URL the guard refuses, with a message the model (and the user) can act on. */
export class AddressRefusedError extends Error {
  override name = this.constructor.name;
}

const normalizeHost = (host: string) => host.trim().toLowerCase().replace(/^\[|\]$/g, '').replace(/\.$/, '');

/**
 * Parses `FETCH_ALLOWED_HOSTS`: comma-separated host names (`intranet.local`), addresses
 * (`10.0.0.5`) or CIDR ranges (`10.0.0.0/8`, `fd00::/8`). Throws naming a part that is none of them.
 */
export function parseFetchAllowList(raw: string | undefined): FetchAllowList {
  const list: FetchAllowList = { hosts: new Set(), ranges: [] };
  for (const part of (raw ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part.includes('/')) {
      try {
        list.ranges.push(ipaddr.parseCIDR(part));
      } catch {
        throw new Error(`FETCH_ALLOWED_HOSTS: "${part}" is not a valid CIDR range`);
      }
    } else {
      const host = normalizeHost(part);
      if (ipaddr.isValid(host)) {
        const address = ipaddr.process(host);
        list.ranges.push([address, address.kind() === 'ipv4' ? 32 : 128]);
      } else {
        list.hosts.add(host);
      }
    }
  }
  return list;
}

function inAllowedRange(address: ipaddr.IPv4 | ipaddr.IPv6, allow: FetchAllowList): boolean {
  return allow.ranges.some(([range, bits]) => range.kind() === address.kind() && address.match(range, bits));
}

/** Throws `AddressRefusedError` unless `address` is public unicast or allowed by the operator. */
export function checkAddress(address: string, allow: FetchAllowList, hostname?: string): void {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    throw new AddressRefusedError(`The address ${address} could not be understood; it is not fetched.`);
  }
  const range = parsed.range();
  if (range === 'unicast' || inAllowedRange(parsed, allow)) return;
  const of = hostname && normalizeHost(hostname) !== normalizeHost(address) ? ` (of ${hostname})` : '';
  throw new AddressRefusedError(
    `The address ${address}${of} is private/internal (${range}) and not allowed; ` +
      'an operator can allow it with FETCH_ALLOWED_HOSTS.',
  );
}

/**
 * Checks a URL's host before any connection: an address literal is checked as is (the socket never
 * looks it up), a name the operator allowed passes; other names are checked by `guardedLookup`.
 */
export function checkUrlHost(url: URL, allow: FetchAllowList): void {
  const host = normalizeHost(url.hostname);
  if (allow.hosts.has(host)) return;
  if (ipaddr.isValid(host)) checkAddress(host, allow);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * A `lookup` for `net.connect` that resolves once, checks every address and hands exactly those
 * to the socket. Allowed host names skip the check.
 */
export function guardedLookup(allow: FetchAllowList, resolve: Resolve = systemResolve) {
  return (hostname: string, options: { all?: boolean; family?: number | string }, callback: LookupCallback): void => {
    void resolve(hostname)
      .then((addresses) => {
        const first = addresses[0];
        if (!first) throw Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' });
        if (!allow.hosts.has(normalizeHost(hostname))) for (const { address } of addresses) checkAddress(address, allow, hostname);
        return { addresses, first };
      })
      .then(
        ({ addresses, first }) => (options.all ? callback(null, addresses) : callback(null, first.address, first.family)),
        (err: unknown) => callback(err as NodeJS.ErrnoException, ''),
      );
  };
}
