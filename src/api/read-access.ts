/**
 * Who may read what on the HTTP read paths. Public topics are open to all;
 * `private/` ones need a credential that grants them.
 */
import type { Request } from 'express';
import { hasScope, type Principal } from '../auth/principal';
import { covers } from '../alert/topics';
import { bearer } from './auth';
import type { ApiContext } from './context';
import { ApiError } from './errors';

/** The caller's credential, if any; a present but unknown one is a 401. */
export async function readPrincipal(ctx: ApiContext, req: Request): Promise<Principal | undefined> {
  const secret = bearer(req);
  if (secret === undefined) return undefined;
  const key = secret ? await ctx.apiKeys.authenticate(secret) : undefined;
  if (!key) throw new ApiError('unauthorized', 'unknown, revoked or expired credential', undefined, { 'WWW-Authenticate': 'Bearer realm="flashwire"' });
  return key;
}

/** True when the principal may read every one of these topics. */
export function canReadTopics(p: Principal | undefined, topics: readonly string[]): boolean {
  if (!p) return false;
  if (p.kind === 'key') return hasScope(p, 'subscribe') || hasScope(p, 'publish') || hasScope(p, 'admin');
  return topics.every((t) => p.topics.some((g) => covers(g, t)));
}
