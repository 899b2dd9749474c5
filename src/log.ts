/**
 * Structured logs (pino). Secrets never reach a log line: credentials are
 * redacted by path wherever they could appear.
 */
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'authorization',
  'token',
  'secret',
  'key',
  '*.authorization',
  '*.token',
  '*.secret',
  'req.headers.authorization',
  'req.headers.cookie',
];

export function createLogger(level: string, name = 'flashwire'): Logger {
  return pino({ name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' }, base: { pid: process.pid } });
}
