/**
 * The one table of API errors. Handlers throw an ApiError by code; the
 * problem middleware turns it into an RFC 9457 document. `type` is a stable
 * URI per code, so clients can branch on it rather than on prose.
 */
export const API_ERRORS = {
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
} as const;

export type ApiErrorCode = keyof typeof API_ERRORS;

export interface FieldError {
  path: string;
  message: string;
}

export const PROBLEM_TYPE_BASE = 'https://flashwire.dev/problems/';

export class ApiError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ApiErrorCode,
    readonly detail: string,
    readonly errors?: FieldError[],
    /** Extra response headers, e.g. Retry-After or WWW-Authenticate. */
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = 'ApiError';
    this.status = API_ERRORS[code].status;
    this.title = API_ERRORS[code].title;
  }

  get type(): string {
    return PROBLEM_TYPE_BASE + this.code.replace(/_/g, '-');
  }
}
