/**
 * JSON request bodies: 415 unless the body is declared JSON, 413 past the
 * limit, 400 when it does not parse (mapped in problems.ts).
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import { ApiError } from './errors';

export function jsonBody(limitBytes: number) {
  const parse = express.json({ limit: limitBytes, strict: false, type: () => true });
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.is(['application/json', 'application/*+json'])) {
      throw new ApiError('unsupported_media_type', 'send the body as JSON with "Content-Type: application/json"');
    }
    parse(req, res, next);
  };
}
