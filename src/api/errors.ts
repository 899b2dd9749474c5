/**
 * The API's typed errors. Handlers throw an ApiError by code (from the one
 * table in http/problem.ts); the problem middleware turns it into an RFC
 * 9457 document.
 */
import { PROBLEMS, problemType, type FieldError, type ProblemCode } from '../http/problem';

export type { FieldError } from '../http/problem';
export type ApiErrorCode = ProblemCode;

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
    this.status = PROBLEMS[code].status;
    this.title = PROBLEMS[code].title;
  }

  get type(): string {
    return problemType(this.code);
  }
}
