/**
 * The SSRF guard: a webhook may only call public addresses. The host is
 * resolved when an endpoint is created (a 422 otherwise) and again on every
 * connection, through the socket's own `lookup`, so a name that later
 * resolves to an inside address (DNS rebinding) is refused at connect.
 */
import dns from 'node:dns';
import net from 'node:net';
import { isPublicAddress } from '../net/public-address';

export { isPublicAddress };

export type LookupAll = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemLookup: LookupAll = (host) => dns.promises.lookup(host, { all: true, verbatim: true });

export class UnsafeAddressError extends Error {
  constructor(host: string, address: string) {
    super(`${host} resolves to ${address}, which is not a public address`);
    this.name = 'UnsafeAddressError';
  }
}

function hostOf(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Resolves the URL's host; throws UnsafeAddressError when any address is not public. */
export async function checkUrlTarget(url: URL, lookup: LookupAll = systemLookup): Promise<void> {
  const host = hostOf(url);
  const addrs = net.isIP(host) ? [{ address: host, family: net.isIP(host) }] : await lookup(host);
  if (addrs.length === 0) throw new Error(`${host} does not resolve`);
  for (const a of addrs) if (!isPublicAddress(a.address)) throw new UnsafeAddressError(host, a.address);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http.request that resolves and refuses non-public
 * addresses (unless allowed), so the check and the connection use the
 * same answer.
 */
export function guardedLookup(allowPrivate: boolean, lookup: LookupAll = systemLookup) {
  return (host: string, options: dns.LookupOptions, cb: LookupCallback): void => {
    const literal = net.isIP(host);
    const found = literal ? Promise.resolve([{ address: host, family: literal }]) : lookup(host);
    found.then(
      (addrs) => {
        const ok = allowPrivate ? addrs : addrs.filter((a) => isPublicAddress(a.address));
        if (ok.length === 0) {
          const err = addrs.length ? new UnsafeAddressError(host, (addrs[0] as { address: string }).address) : new Error(`${host} does not resolve`);
          cb(err as NodeJS.ErrnoException, '', 0);
          return;
        }
        if (options.all) cb(null, ok.map((a) => ({ address: a.address, family: a.family })));
        else cb(null, (ok[0] as { address: string }).address, (ok[0] as { family: number }).family);
      },
      (err: NodeJS.ErrnoException) => cb(err, '', 0),
    );
  };
}
