/**
 * The SSRF guard: a webhook may only call public addresses. The host is
 * resolved when an endpoint is created (a 422 otherwise) and again on every
 * connection, through the socket's own `lookup`, so a name that later
 * resolves to an inside address (DNS rebinding) is refused at connect.
 */
import dns from 'node:dns';
import net from 'node:net';

const blocked = new net.BlockList();
for (const [addr, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.88.99.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24],
  ['203.0.113.0', 24], ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) blocked.addSubnet(addr, prefix, 'ipv4');
for (const [addr, prefix] of [
  ['::', 128], ['::1', 128], ['64:ff9b::', 96], ['64:ff9b:1::', 48], ['100::', 64], ['2001::', 23], ['2001:db8::', 32],
  ['2002::', 16], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) blocked.addSubnet(addr, prefix, 'ipv6');

/** True for an address a webhook may call: not loopback, private, link-local, shared, reserved or multicast. */
export function isPublicAddress(address: string): boolean {
  const family = net.isIP(address);
  if (family === 4) return !blocked.check(address, 'ipv4');
  if (family !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return isPublicAddress(mapped[1] as string);
  return !blocked.check(address, 'ipv6');
}

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
