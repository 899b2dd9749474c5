/**
 * JSON request bodies: 415 when declared as anything but JSON, 400 when
 * there is none (say, `curl --data @file` with a file that is not there),
 * 413 past the limit (FLASHWIRE_BODY_LIMIT_BYTES), 400 when it does not
 * parse (mapped in problems.ts).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { describeBytes } from '../http/problem';
import { ApiError } from './errors';

const EMPTY = 'the request body is empty: send a JSON object';
const NOT_JSON = 'send the body as JSON with "Content-Type: application/json"';

/** application/json or application/*+json, parameters ignored. */
export function isJsonType(header: string): boolean {
  const type = header.split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

export function jsonBody(limitBytes: number) {
  const parse = express.json({
    limit: limitBytes,
    strict: false,
    type: () => true,
    // body-parser reads an empty body as {}: note the emptiness to say so.
    verify: (req, _res, buf) => {
      if (buf.length === 0) (req as Request & { emptyBody?: boolean }).emptyBody = true;
    },
  });
  const tooLarge = `the body is larger than the limit of ${describeBytes(limitBytes)}`;
  return (req: Request, res: Response, next: NextFunction): void => {
    const type = req.headers['content-type'];
    // A body declared as something else is refused for what it is, empty or not.
    if (type !== undefined && !isJsonType(type)) throw new ApiError('unsupported_media_type', NOT_JSON);
    const length = req.headers['content-length'];
    const chunked = req.headers['transfer-encoding'] !== undefined;
    if (!chunked && (length === undefined || Number(length) === 0)) throw new ApiError('empty_body', EMPTY);
    if (type === undefined) throw new ApiError('unsupported_media_type', NOT_JSON);
    parse(req, res, (err?: unknown) => {
      if ((err as { type?: string } | undefined)?.type === 'entity.too.large') return next(new ApiError('payload_too_large', tooLarge));
      if (err) return next(err);
      // A chunked body can still turn out to hold nothing.
      if (req.body === undefined || (req as Request & { emptyBody?: boolean }).emptyBody) return next(new ApiError('empty_body', EMPTY));
      next();
    });
  };
}
