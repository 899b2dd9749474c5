/**
 * Request ids: an incoming `X-Request-Id` (from a balancer or the newsroom's
 * own system) is kept, otherwise one is made; it is echoed in the response
 * and carried by every log line of the request, plus one access line.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { logContext } from '../log';

const REQUEST_ID_HEADER = 'X-Request-Id';
/** Only ids that are safe to echo and to log: no spaces, no control characters, bounded. */
const SAFE_ID = /^[A-Za-z0-9._:/+=-]{1,128}$/;

export function requestId(log: Logger) {
  // req.path, never req.url: the query may hold a token.
  return (req: Request, res: Response, next: NextFunction): void => tracked(log, req, res, () => req.path, next);
}

/**
 * Runs `handle` as one request: its id set on the response and carried by
 * its log lines, and its access line written once the response is.
 */
export function tracked(log: Logger, req: IncomingMessage, res: ServerResponse, path: () => string, handle: () => void): void {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && SAFE_ID.test(given) ? given : randomUUID();
  res.setHeader(REQUEST_ID_HEADER, id);
  const started = process.hrtime.bigint();
  logContext.run({ requestId: id }, () => {
    res.once('finish', () =>
      logContext.run({ requestId: id }, () =>
        log.info({ method: req.method, path: path(), status: res.statusCode, ms: Number(process.hrtime.bigint() - started) / 1e6 }, 'request'),
      ),
    );
    handle();
  });
}
