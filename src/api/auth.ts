/**
 * Bearer credentials on the API. Publishing paths need an API key with the
 * `publish` scope; read paths accept any credential and decide per alert.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import type { ApiKeyStore, CachedKey } from '../auth/api-keys';
import { bearerCredential } from '../auth/bearer';
import type { KeyPrincipal, Principal, Scope } from '../auth/principal';
import { looksLikeJwt } from '../auth/subscriber-token';
import { ApiError } from './errors';

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
    /** Set by requireKeyCached: the key as this process last read it, to re-check. */
    cachedKey?: CachedKey;
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
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const secret = presented(req);
    const principal = known(secret, await apiKeys.authenticate(secret));
    if (!holds(principal, scopes)) throw lacks(principal, scopes);
    req.principal = principal;
    next();
  };
}

/**
 * As requireKey, from this process's key cache (ApiKeyStore.authenticateCached).
 * The route must re-check the key before it answers, in the same round trip
 * as its write or with confirmKey, so a revocation still takes effect at once.
 */
export function requireKeyCached(apiKeys: ApiKeyStore, scope: Scope) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const secret = presented(req);
    const key = await apiKeys.authenticateCached(secret);
    const principal = known(secret, key?.principal);
    if (!holds(principal, [scope])) {
      // A revoked key is a 401, as it is without the cache.
      if (!(await apiKeys.stillValid(key!))) throw unknownKey();
      throw lacks(principal, [scope]);
    }
    req.principal = principal;
    req.cachedKey = key;
    next();
  };
}

/**
 * As requireKeyCached, without waiting: the key from this process's cache
 * when it holds `scope`. Undefined for anything else (no key, a key not yet
 * read, one without the scope), which requireKeyCached then answers.
 */
export function cachedKeyHolding(apiKeys: ApiKeyStore, headers: IncomingHttpHeaders, scope: Scope): CachedKey | undefined {
  const secret = bearerCredential(headers.authorization);
  const key = secret === undefined ? undefined : apiKeys.cachedOnly(secret);
  return key && holds(key.principal, [scope]) ? key : undefined;
}

/** After requireKeyCached, for an answer the route gives without its write: a 401 if the key has been revoked. */
export async function confirmKey(apiKeys: ApiKeyStore, key: CachedKey | undefined): Promise<void> {
  if (key && !(await apiKeys.stillValid(key))) throw unknownKey();
}

/** The 401 for a key that is not (or no longer) stored. */
export function unknownKey(): ApiError {
  return new ApiError('unauthorized', 'unknown or revoked API key', undefined, CHALLENGE);
}

function presented(req: Request): string {
  const secret = bearer(req);
  if (secret === undefined) throw new ApiError('unauthorized', 'send an API key as "Authorization: Bearer KEY"', undefined, CHALLENGE);
  if (secret === '') throw new ApiError('unauthorized', 'the Authorization header must be "Bearer KEY"', undefined, CHALLENGE);
  return secret;
}

function known(secret: string, principal: KeyPrincipal | undefined): KeyPrincipal {
  if (!principal && looksLikeJwt(secret)) throw new ApiError('unauthorized', 'a subscriber token can read but not publish; send an API key', undefined, CHALLENGE);
  if (!principal) throw unknownKey();
  return principal;
}

function holds(principal: KeyPrincipal, scopes: readonly Scope[]): boolean {
  return principal.scopes.some((s) => scopes.includes(s));
}

function lacks(principal: KeyPrincipal, scopes: readonly Scope[]): ApiError {
  return new ApiError('forbidden', `this key (${principal.name}) lacks the "${scopes.join('" or "')}" scope`);
}
