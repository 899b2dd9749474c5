/**
 * The accept lane: POST /v1/alerts without express, for the request nearly
 * every newsroom sends: a key this process has read before, holding the
 * publish scope, and a plain UTF-8 JSON body of declared length within the
 * limit, with no query. On a spaced alert, express's routing, middleware
 * and body-parser took about half a millisecond of the 2.9 ms the API
 * spent on a 202 (docs/performance.md), and none of it decides anything
 * for this request.
 *
 * Whatever else comes (no key or one not yet read, a compressed, chunked or
 * UTF-16 body, `?dryRun`) goes to express untouched. What the lane answers
 * itself is decided by the same AlertPoster and written by the same problem
 * writer, so the two ways in give the same answers, headers and log lines.
 */
import { AsyncResource } from 'node:async_hooks';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ApiKeyStore } from '../auth/api-keys';
import { cachedKeyHolding } from './auth';
import { isJsonType } from './body';
import { ApiError } from './errors';
import type { AlertPoster } from './post-alert';
import type { ErrorAnswer } from './problems';
import { tracked } from './request-id';

const PATH = '/v1/alerts';
const UTF8_BOM = [0xef, 0xbb, 0xbf];

export interface AcceptLaneOptions {
  apiKeys: ApiKeyStore;
  poster: AlertPoster;
  log: Logger;
  bodyLimitBytes: number;
  /** Writes an error as the API's last middleware does. */
  answerError: ErrorAnswer;
}

/** Handles the request and returns true when it is one for the lane; false leaves it to express. */
export function acceptLane(o: AcceptLaneOptions): (req: IncomingMessage, res: ServerResponse) => boolean {
  return (req, res) => {
    if (req.method !== 'POST' || req.url !== PATH) return false;
    const length = plainJsonLength(req.headers, o.bodyLimitBytes);
    if (length === undefined) return false;
    const key = cachedKeyHolding(o.apiKeys, req.headers, 'publish');
    if (!key) return false;
    tracked(o.log, req, res, () => PATH, () => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      // A client that hangs up mid-body gets nothing, as with body-parser.
      req.on('error', () => undefined);
      // Stream events run in the connection's async context: the request's
      // is carried over so the answer's log lines keep its id.
      req.on(
        'end',
        AsyncResource.bind(() => {
          const fail = (err: unknown) => o.answerError(err, res, PATH);
          let body: unknown;
          try {
            const t = text(Buffer.concat(chunks, length));
            // As body-parser: a body of a byte order mark alone reads as {}.
            body = t === '' ? {} : JSON.parse(t);
          } catch {
            // Refused before the accept: first what its checks would have said.
            o.poster
              .checkedFirst({ key, dryRun: false })
              .then(() => fail(new ApiError('malformed_json', 'the body is not valid JSON')), fail);
            return;
          }
          o.poster.post({ key, body, dryRun: false, headers: req.headers }).then((answer) => {
            res.writeHead(answer.status, { ...answer.headers, 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(answer.body) });
            res.end(answer.body);
          }, fail);
        }),
      );
    });
    return true;
  };
}

/**
 * The body's declared length when it is plain JSON for the lane: a JSON
 * type in UTF-8, no content coding, no chunking, not empty and within the
 * limit. Undefined for anything express should read (and refuse) instead.
 */
export function plainJsonLength(h: IncomingHttpHeaders, limit: number): number | undefined {
  const type = h['content-type'];
  if (type === undefined || !isJsonType(type)) return undefined;
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(type)?.[1];
  if (charset !== undefined && charset.toLowerCase() !== 'utf-8') return undefined;
  if (h['transfer-encoding'] !== undefined) return undefined;
  const coding = h['content-encoding'];
  if (coding !== undefined && coding.toLowerCase() !== 'identity') return undefined;
  const declared = h['content-length'];
  if (declared === undefined || !/^\d{1,9}$/.test(declared)) return undefined;
  const n = Number(declared);
  return n > 0 && n <= limit ? n : undefined;
}

/** The body as text, without the byte order mark body-parser would also drop. */
function text(buf: Buffer): string {
  const bom = buf.length >= 3 && UTF8_BOM.every((b, i) => buf[i] === b);
  return buf.toString('utf8', bom ? 3 : 0);
}
