/**
 * RFC 9457 problem documents: the one table of error codes and the one
 * writer. The API, the health checks, the SSE endpoint's refusals and
 * /metrics all answer through it, so a status carries the same `type`
 * wherever it comes from and clients can branch on `type` rather than prose.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';

/** Every error Flashwire answers over HTTP: code, status, title. */
export const PROBLEMS = {
  bad_request: { status: 400, title: 'Bad Request' },
  malformed_json: { status: 400, title: 'Malformed JSON' },
  empty_body: { status: 400, title: 'Empty Body' },
  unauthorized: { status: 401, title: 'Unauthorized' },
  forbidden: { status: 403, title: 'Forbidden' },
  not_found: { status: 404, title: 'Not Found' },
  method_not_allowed: { status: 405, title: 'Method Not Allowed' },
  conflict: { status: 409, title: 'Conflict' },
  payload_too_large: { status: 413, title: 'Payload Too Large' },
  unsupported_media_type: { status: 415, title: 'Unsupported Media Type' },
  validation_failed: { status: 422, title: 'Validation Failed' },
  idempotency_key_reused: { status: 422, title: 'Idempotency Key Reused' },
  rate_limited: { status: 429, title: 'Too Many Requests' },
  internal: { status: 500, title: 'Internal Server Error' },
  unavailable: { status: 503, title: 'Service Unavailable' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ProblemCode = keyof typeof PROBLEMS;

const PROBLEM_TYPE_BASE = 'https://flashwire.dev/problems/';

/** The stable `type` URI of a code: the code in kebab case under the base. */
export function problemType(code: ProblemCode): string {
  return PROBLEM_TYPE_BASE + code.replace(/_/g, '-');
}

const PROBLEM_TYPES = (Object.keys(PROBLEMS) as ProblemCode[]).map(problemType) as [string, ...string[]];

export const problemSchema = z.object({
  type: z.enum(PROBLEM_TYPES).describe('the kind of error, one URI per code: branch on this rather than on the prose'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  instance: z.string().optional(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof problemSchema>;

export interface FieldError {
  path: string;
  message: string;
}

export interface ProblemExtras {
  /** The request path the problem is about. */
  instance?: string;
  /** One entry per bad field (validation). */
  errors?: FieldError[];
  /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
  headers?: Record<string, string>;
}

export function problemBody(code: ProblemCode, detail: string, extras: ProblemExtras = {}): Problem {
  const { status, title } = PROBLEMS[code];
  const body: Problem = { type: problemType(code), title, status, detail };
  if (extras.instance) body.instance = extras.instance;
  if (extras.errors) body.errors = extras.errors;
  return body;
}

/** Writes the whole response: status, headers and the problem document. */
export function writeProblem(res: ServerResponse, code: ProblemCode, detail: string, extras: ProblemExtras = {}): void {
  const text = JSON.stringify(problemBody(code, detail, extras));
  res.writeHead(PROBLEMS[code].status, {
    'Content-Type': 'application/problem+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    ...extras.headers,
  });
  res.end(text);
}

/** A size as people write it: "64 KiB", "1 MiB", or plain bytes when it is not a round number. */
export function describeBytes(n: number): string {
  if (n >= 1024 * 1024 && n % (1024 * 1024) === 0) return `${n / (1024 * 1024)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
