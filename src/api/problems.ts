/**
 * The API's side of problem documents: every error it answers becomes an
 * ApiError and is written by the one problem writer (http/problem.ts).
 */
import type { ServerResponse } from 'node:http';
import type { ErrorRequestHandler } from 'express';
import type { Logger } from 'pino';
import type { z } from 'zod';
import { writeProblem, type FieldError } from '../http/problem';
import { isRedisOutOfMemory } from '../redis/server-check';
import { ApiError } from './errors';

function sendProblem(res: ServerResponse, err: ApiError, instance?: string): void {
  writeProblem(res, err.code, err.detail, { instance, errors: err.errors, headers: err.headers });
}

/** True when `input` has a value at `path` (zod 4 does not report the input by default). */
function present(input: unknown, path: readonly PropertyKey[]): boolean {
  let v: unknown = input;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return false;
    v = (v as Record<PropertyKey, unknown>)[k];
  }
  return v !== undefined;
}

/** Says why a field the schema does not take was refused (default: not a known field). */
export type UnknownFieldMessage = (field: string) => string;
const notKnown: UnknownFieldMessage = () => 'is not a known field';

/** Turns a zod error into the `errors` array: one entry per bad field. */
function fieldErrors(error: z.ZodError, input?: unknown, unknownField: UnknownFieldMessage = notKnown): FieldError[] {
  const out: FieldError[] = [];
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const k of issue.keys) out.push({ path: [...issue.path, k].join('.'), message: issue.path.length === 0 ? unknownField(k) : notKnown(k) });
      continue;
    }
    if (issue.code === 'invalid_type' && issue.path.length === 0) {
      out.push({ path: '', message: 'the body must be a JSON object' });
      continue;
    }
    const path = issue.path.map(String).join('.');
    const missing = input === undefined ? issue.input === undefined : !present(input, issue.path);
    const msg = issue.code === 'invalid_type' && missing ? 'is required' : issue.message;
    out.push({ path, message: msg });
  }
  return out;
}

export function validationError(error: z.ZodError, input?: unknown, unknownField?: UnknownFieldMessage): ApiError {
  const errors = fieldErrors(error, input, unknownField);
  const names = [...new Set(errors.map((e) => e.path || 'body'))];
  return new ApiError('validation_failed', `invalid ${names.join(', ')}: ${errors.map((e) => `${e.path || 'body'} ${e.message}`).join('; ')}`, errors);
}

/**
 * A command cut off by a lost connection: Redis went away mid-request. The
 * connection the check above looks at may still read 'ready' (the failed
 * command ran on another one, or the close is not yet processed), so the
 * error itself must also count as "Redis is down".
 */
function isRedisConnectionError(err: unknown): boolean {
  const e = err as { name?: string; code?: string; message?: string } | undefined;
  if (!e) return false;
  return (
    e.name === 'MaxRetriesPerRequestError' ||
    e.code === 'ECONNREFUSED' ||
    e.code === 'ECONNRESET' ||
    e.code === 'EPIPE' ||
    e.message === 'Connection is closed.' ||
    // A link that went silent: the command's timeout (FLASHWIRE_REDIS_TIMEOUT_MS) fired.
    e.message === 'Command timed out' ||
    (typeof e.message === 'string' && e.message.startsWith("Stream isn't writeable"))
  );
}

interface BodyParserError {
  type?: string;
  status?: number;
  expose?: boolean;
}

/**
 * The last middleware: typed errors become problem documents; body-parser
 * failures map to 400/415 (413 is mapped where the limit is known, body.ts); anything else is a 503 when Redis is down
 * (the caller may retry) and a 500 otherwise, logged with its stack.
 */
export function problemMiddleware(answer: ErrorAnswer): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    void _next;
    answer(err, res, req.originalUrl);
  };
}

/** Writes an error as a problem document; `instance` is the request's path. */
export type ErrorAnswer = (err: unknown, res: ServerResponse, instance: string) => void;

/** What problemMiddleware answers, also for a response written without express (the accept lane). */
export function errorAnswerer(log: Logger, redisReady: () => boolean): ErrorAnswer {
  return (err, res, instance) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (err instanceof ApiError) return sendProblem(res, err, instance);
    const bp = err as BodyParserError;
    switch (bp.type) {
      case 'entity.parse.failed':
        return sendProblem(res, new ApiError('malformed_json', 'the body is not valid JSON'), instance);
      case 'charset.unsupported':
      case 'encoding.unsupported':
        return sendProblem(res, new ApiError('unsupported_media_type', 'the body must be UTF-8 JSON'), instance);
      case 'request.aborted':
        return;
    }
    if (isRedisOutOfMemory(err)) {
      log.warn({ err: String(err) }, 'request refused: Redis is out of memory');
      return sendProblem(
        res,
        new ApiError('unavailable', 'Redis is out of memory (maxmemory reached, policy noeviction) and refuses writes; nothing was accepted. Retry once it has room: raise maxmemory or lower FLASHWIRE_RECORD_RETENTION_SECONDS', undefined, { 'Retry-After': '5' }),
        instance,
      );
    }
    if (!redisReady() || isRedisConnectionError(err)) {
      log.warn({ err: String(err) }, 'request failed while Redis is unreachable');
      return sendProblem(res, new ApiError('unavailable', 'Redis cannot be reached; nothing was accepted, retry shortly', undefined, { 'Retry-After': '1' }), instance);
    }
    log.error({ err }, 'unhandled error');
    sendProblem(res, new ApiError('internal', 'an unexpected error occurred; it has been logged'), instance);
  };
}
