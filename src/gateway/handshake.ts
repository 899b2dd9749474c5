/**
 * What both stream endpoints check before a reader is opened: the Origin
 * allow-list and the credential presented. Kept apart from the endpoints so
 * WebSocket and SSE apply exactly the same rules.
 */
import type { IncomingMessage } from 'node:http';
import { bearerCredential } from '../auth/bearer';

export function originAllowed(allowed: readonly string[], origin: string | undefined): boolean {
  if (allowed.length === 0 || allowed.includes('*')) return true;
  // Non-browser clients send no Origin; the allow-list guards browsers.
  return origin === undefined || allowed.includes(origin);
}

/** The credential from `?token=` or the Authorization header. */
export function presentedCredential(req: IncomingMessage, url: URL): string | undefined {
  const q = url.searchParams.get('token');
  if (q) return q;
  return bearerCredential(req.headers.authorization);
}

/** `since` from the query string; an empty value means none. */
export function sinceParam(url: URL): string | undefined {
  const v = url.searchParams.get('since');
  return v === null || v === '' ? undefined : v;
}
