/**
 * Bearer credentials on the API. Publishing paths need an API key with the
 * `publish` scope; read paths accept any credential and decide per alert.
 */
import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyStore } from '../auth/api-keys';
import { bearerCredential } from '../auth/bearer';
import type { Principal, Scope } from '../auth/principal';
import { looksLikeJwt } from '../auth/subscriber-token';
import { ApiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

export const CHALLENGE = { 'WWW-Authenticate': 'Bearer realm="flashwire"' };

/** The Bearer credential; '' when an Authorization header is there but is not one. */
export function bearer(req: Request): string | undefined {
  const h = req.headers.authorization;
  if (!h) return undefined;
  return bearerCredential(h) ?? '';
}

/** Requires an API key holding `scope`. */
export function requireKey(apiKeys: ApiKeyStore, scope: Scope) {
  return requireAnyKey(apiKeys, [scope]);
}

/** Requires an API key holding at least one of `scopes`. */
export function requireAnyKey(apiKeys: ApiKeyStore, scopes: readonly Scope[]) {
  const scope = scopes.join('" or "');
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const secret = bearer(req);
    if (secret === undefined) throw new ApiError('unauthorized', 'send an API key as "Authorization: Bearer KEY"', undefined, CHALLENGE);
    if (secret === '') throw new ApiError('unauthorized', 'the Authorization header must be "Bearer KEY"', undefined, CHALLENGE);
    const principal = await apiKeys.authenticate(secret);
    if (!principal && looksLikeJwt(secret)) throw new ApiError('unauthorized', 'a subscriber token can read but not publish; send an API key', undefined, CHALLENGE);
    if (!principal) throw new ApiError('unauthorized', 'unknown or revoked API key', undefined, CHALLENGE);
    if (!principal.scopes.some((s) => scopes.includes(s))) throw new ApiError('forbidden', `this key (${principal.name}) lacks the "${scope}" scope`);
    req.principal = principal;
    next();
  };
}
