/**
 * Who may read what on the HTTP read paths. Public topics are open to all;
 * `private/` ones need a credential that grants them.
 */
import type { Request } from 'express';
import { refusalOf } from '../auth/authenticator';
import type { Principal } from '../auth/principal';
import { bearer, CHALLENGE } from './auth';
import type { ApiContext } from './context';
import { ApiError } from './errors';

/** The caller's credential (API key or subscriber token), if any; a present but bad one is a 401. */
export async function readPrincipal(ctx: ApiContext, req: Request): Promise<Principal | undefined> {
  const secret = bearer(req);
  if (secret === undefined) return undefined;
  const p = secret ? await ctx.authenticator.authenticate(secret) : undefined;
  if (!p) throw new ApiError('unauthorized', refusalOf(ctx.authenticator, secret), undefined, CHALLENGE);
  return p;
}

export { mayReadAlert, mayReadSubscription } from '../auth/grants';
