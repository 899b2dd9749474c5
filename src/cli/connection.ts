/**
 * Where the CLI talks to and with which credential. The service address is
 * `--server` (or FLASHWIRE_SERVER), never `--url`: on `send` and `correct`,
 * `--url` is the alert's link. Credentials come from flags or the
 * environment at run time and are never shown as defaults in help, nor
 * printed in errors. A credential is refused over plain http(s)/ws to a host
 * other than this machine unless `--insecure` says so.
 */
import type { Command } from 'commander';
import { CliError } from './cli-error';

const DEFAULT_SERVER = 'http://localhost:8080';

interface GlobalOptions {
  server?: string;
  insecure?: boolean;
}

function globals(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals<GlobalOptions>();
}

/** The service address: --server, FLASHWIRE_SERVER (FLASHWIRE_URL, its older name), or localhost:8080. */
function serverOf(cmd: Command): URL {
  const raw = globals(cmd).server ?? process.env.FLASHWIRE_SERVER ?? process.env.FLASHWIRE_URL ?? DEFAULT_SERVER;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new CliError('--server must be the service address, e.g. http://localhost:8080', 2);
  }
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(u.protocol)) throw new CliError('--server must be an http or https address, e.g. http://localhost:8080', 2);
  return u;
}

/** The address as shown to the user: no user:password part. */
export function shown(u: URL): string {
  const c = new URL(u.toString());
  c.username = '';
  c.password = '';
  return c.origin;
}

function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h.endsWith('.localhost') || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The server to send `credential` to. Plain http (or ws) to another host
 * would put the credential on the wire in clear text: refused unless
 * `--insecure`.
 */
export function serverFor(cmd: Command, credential: string | undefined): URL {
  const u = serverOf(cmd);
  const plain = u.protocol === 'http:' || u.protocol === 'ws:';
  if (credential && plain && !isLoopback(u.hostname) && !globals(cmd).insecure) {
    throw new CliError(`refusing to send a credential over plain ${u.protocol.slice(0, -1)} to ${u.hostname}: use https, or pass --insecure if this network is trusted`, 2);
  }
  return u;
}

/** The publish key: --key, else FLASHWIRE_KEY. */
export function keyOf(o: { key?: string }): string | undefined {
  return o.key || process.env.FLASHWIRE_KEY || undefined;
}

export function requireKey(o: { key?: string }): string {
  const key = keyOf(o);
  if (!key) throw new CliError('no publish key: pass --key or set FLASHWIRE_KEY');
  return key;
}
