/**
 * Structured logs (pino). Secrets never reach a log line: credentials are
 * redacted by path wherever they could appear, and no code logs a URL's
 * query string (where browsers carry `?token=`).
 *
 * A request id set in `logContext` (the API's request-id middleware does)
 * is added to every line logged while that request is handled, so handlers
 * need not pass a child logger around.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import os from 'node:os';
import pino, { type Logger } from 'pino';

const REDACT_PATHS = [
  'authorization',
  'token',
  'secret',
  'key',
  'password',
  'cookie',
  '*.authorization',
  '*.token',
  '*.secret',
  '*.password',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
];

function onePid(o: Record<string, unknown>): Record<string, unknown> {
  if (!Object.prototype.hasOwnProperty.call(o, 'pid')) return o;
  const { pid, ...rest } = o;
  return { ...rest, otherPid: pid };
}

export const logContext = new AsyncLocalStorage<{ requestId: string }>();

export function createLogger(level: string, name = 'flashwire'): Logger {
  return pino({
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    // hostname and pid name the process (gateway N) in every line.
    base: { pid: process.pid, hostname: os.hostname() },
    mixin: () => logContext.getStore() ?? {},
    // One `pid` per line, this process's: another process's pid in a log
    // call (a child redis-server, a gateway worker) is kept as `otherPid`.
    formatters: { log: onePid },
  });
}
