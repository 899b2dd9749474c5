/**
 * Where a push may go. A subscription's endpoint is a URL a browser's push
 * service gave it; anyone can post one, so it must never make Flashwire
 * call into its own network (SSRF). Endpoints whose host is, or resolves
 * to, a loopback, private, link-local or otherwise non-public address are
 * refused when the subscription is made, and checked again on every new
 * connection (a name can be re-pointed after it was accepted), unless
 * FLASHWIRE_PUSH_ALLOW_PRIVATE=true (tests, a push-service stand-in).
 */
import dns from 'node:dns';
import net from 'node:net';
import { isPublicAddress } from '../net/public-address';

export { isPublicAddress };

export class EndpointError extends Error {}

const MAX_ENDPOINT_LENGTH = 2048;

/** Parses an endpoint and checks its form; throws EndpointError saying how to fix it. */
export function parseEndpoint(raw: string, allowPrivate: boolean): URL {
  if (raw.length > MAX_ENDPOINT_LENGTH) throw new EndpointError(`must be at most ${MAX_ENDPOINT_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new EndpointError('must be an absolute URL, as PushSubscription.endpoint gives it');
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) throw new EndpointError('must be an https URL');
  if (url.username || url.password) throw new EndpointError('must not carry a user name or password');
  return url;
}

/** Resolves the endpoint's host; throws EndpointError when any address is not public (unless allowed). */
export async function checkEndpointAddress(url: URL, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (net.isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await dns.promises.lookup(host, { all: true, verbatim: true })).map((a) => a.address);
    } catch {
      throw new EndpointError(`its host ${host} does not resolve`);
    }
  }
  if (addresses.length === 0 || !addresses.every(isPublicAddress)) throw new EndpointError(`its host ${host} is not a public address (set FLASHWIRE_PUSH_ALLOW_PRIVATE=true for a push service inside your network)`);
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for http(s) agents that refuses non-public answers, so a
 * connection never reaches an address the subscription check would refuse.
 */
export function publicOnlyLookup(hostname: string, options: dns.LookupOptions, callback: LookupCallback): void {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '');
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0) {
      const e: NodeJS.ErrnoException = new Error(`push endpoint host ${hostname} resolves to a non-public address`);
      e.code = 'EPUSHPRIVATE';
      return callback(e, '');
    }
    if (options.all) return callback(null, list);
    callback(null, list[0]!.address, list[0]!.family);
  });
}
