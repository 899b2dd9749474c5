/**
 * The one reading of `Authorization: Bearer <credential>` (RFC 6750): the
 * API, the stream endpoints, the admin pages and /metrics all take the
 * credential from here, so they agree on what counts as one.
 */
const BEARER = /^Bearer\s+(\S+)\s*$/i;

/** The credential of a Bearer header; undefined when there is no header or it is not a Bearer credential. */
export function bearerCredential(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return BEARER.exec(header)?.[1];
}
