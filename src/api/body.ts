/**
 * JSON request bodies: 415 when declared as anything but JSON, 400 when
 * there is none (say, `curl --data @file` with a file that is not there),
 * 413 past the limit (FLASHWIRE_BODY_LIMIT_BYTES), 400 when it does not
 * parse (mapped in problems.ts).
 *
 * A plain UTF-8 body, which is what newsrooms send, is read here in a few
 * lines; a compressed one, or one in another UTF charset, goes through
 * body-parser, which decodes those. The plain path is the accept's hot
 * path: body-parser's content-type, charset and stream handling cost a
 * spaced POST about a quarter of a millisecond (docs/performance.md).
 */
import type { IncomingMessage } from 'node:http';
import express, { type NextFunction, type Request, type Response } from 'express';
import { describeBytes } from '../http/problem';
import { ApiError } from './errors';

const EMPTY = 'the request body is empty: send a JSON object';
const NOT_JSON = 'send the body as JSON with "Content-Type: application/json"';
/** Also what problems.ts says for a body body-parser could not parse. */
export const MALFORMED = 'the body is not valid JSON';

/** application/json or application/*+json, parameters ignored. */
function isJsonType(header: string): boolean {
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** No content coding and no charset but UTF-8: the bytes are the JSON text as it is. */
function isPlainUtf8(req: IncomingMessage, type: string): boolean {
  const coding = req.headers['content-encoding'];
  if (coding !== undefined && coding.toLowerCase() !== 'identity') return false;
  const charset = /;\s*charset\s*=\s*"?([^";\s]*)/i.exec(type)?.[1];
  return charset === undefined || charset.toLowerCase() === 'utf-8';
}

/**
 * Reads the body whole and parses it. Past the limit the rest is read and
 * dropped before the 413, as body-parser does, so the answer is not a reset
 * the client may never see.
 */
function readPlainJson(req: Request, limitBytes: number, tooLarge: () => ApiError, next: NextFunction): void {
  const declared = Number(req.headers['content-length']);
  let over = declared > limitBytes;
  let size = 0;
  const chunks: Buffer[] = [];
  let done = false;
  const finish = (err?: unknown) => {
    if (done) return;
    done = true;
    req.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    next(err);
  };
  const onData = (chunk: Buffer) => {
    size += chunk.length;
    if (size > limitBytes) over = true;
    if (!over) chunks.push(chunk);
  };
  const onEnd = () => {
    if (over) return finish(tooLarge());
    if (size === 0) return finish(new ApiError('empty_body', EMPTY));
    let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8');
    // A byte order mark is not JSON, but a UTF-8 body may carry one.
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    try {
      req.body = JSON.parse(text) as unknown;
    } catch {
      return finish(new ApiError('malformed_json', MALFORMED));
    }
    finish();
  };
  // The client went away mid-body: nothing to answer (problems.ts).
  const onError = () => finish(Object.assign(new Error('request aborted'), { type: 'request.aborted' }));
  const onClose = () => {
    if (!req.complete) onError();
  };
  req.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
}

export function jsonBody(limitBytes: number) {
  // For the bodies readPlainJson leaves alone: compressed, or UTF-16/32.
  const parseEncoded = express.json({
    limit: limitBytes,
    strict: false,
    type: () => true,
    // body-parser reads an empty body as {}: note the emptiness to say so.
    verify: (req, _res, buf) => {
      if (buf.length === 0) (req as Request & { emptyBody?: boolean }).emptyBody = true;
    },
  });
  const tooLarge = () => new ApiError('payload_too_large', `the body is larger than the limit of ${describeBytes(limitBytes)}`);
  return (req: Request, res: Response, next: NextFunction): void => {
    const type = req.headers['content-type'];
    // A body declared as something else is refused for what it is, empty or not.
    if (type !== undefined && !isJsonType(type)) throw new ApiError('unsupported_media_type', NOT_JSON);
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || Number(length) === 0)) throw new ApiError('empty_body', EMPTY);
    if (type === undefined) throw new ApiError('unsupported_media_type', NOT_JSON);
    if (isPlainUtf8(req, type)) return readPlainJson(req, limitBytes, tooLarge, next);
    parseEncoded(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large') return next(tooLarge());
      if (err) return next(err);
      // A chunked body can still turn out to hold nothing.
      if (req.body === undefined || (req as Request & { emptyBody?: boolean }).emptyBody) return next(new ApiError('empty_body', EMPTY));
      next();
    });
  };
}
