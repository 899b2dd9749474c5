/**
 * /admin/queues: the BullMQ dashboard (bull-board) over the send queue, for
 * operators holding an API key with the `admin` scope.
 *
 * The key is accepted as `Authorization: Bearer KEY` (scripts, curl) or as
 * the password of HTTP Basic auth (any user name): a browser asks for it by
 * itself on the 401's Basic challenge and then sends it with every asset
 * and API call of the dashboard, with no login page and no cookie (so no
 * CSRF surface) to build.
 *
 * The board is read-only. Its write actions would bypass the API's rules:
 * "promote" sends an embargoed alert early, "remove" and "clean" leave an
 * alert scheduled or queued for ever, "add" skips validation. Retractions
 * and corrections go through the API.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import type { ApiKeyStore } from '../../auth/api-keys';
import { bearerCredential } from '../../auth/bearer';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';

const ADMIN_QUEUES_PATH = '/admin/queues';

const CHALLENGE = { 'WWW-Authenticate': 'Basic realm="flashwire admin", charset="UTF-8", Bearer realm="flashwire"' };

/** The key from `Bearer KEY` or from the password of `Basic base64(user:KEY)`. */
function adminCredential(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const bearer = bearerCredential(header);
  if (bearer) return bearer;
  const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && colon < decoded.length - 1 ? decoded.slice(colon + 1) : undefined;
}

function requireAdmin(apiKeys: ApiKeyStore) {
  return async (req: Request, _res: Response, next: NextFunction): Promise<void> => {
    const secret = adminCredential(req.headers.authorization);
    if (secret === undefined) throw new ApiError('unauthorized', 'send an API key with the admin scope, as "Authorization: Bearer KEY" or as the Basic auth password', undefined, CHALLENGE);
    const principal = await apiKeys.authenticate(secret);
    if (!principal) throw new ApiError('unauthorized', 'unknown or revoked API key', undefined, CHALLENGE);
    if (!principal.scopes.includes('admin')) throw new ApiError('forbidden', `this key (${principal.name}) lacks the "admin" scope`);
    req.principal = principal;
    next();
  };
}

/** The dashboard itself; bull-board is loaded on the first admin request, not at every start (it is a large part of start-up time). */
function boardRouter(ctx: Pick<ApiContext, 'queue'>): Router {
  const { createBullBoard } = require('@bull-board/api') as typeof import('@bull-board/api');
  const { BullMQAdapter } = require('@bull-board/api/bullMQAdapter') as typeof import('@bull-board/api/bullMQAdapter');
  const { ExpressAdapter } = require('@bull-board/express') as typeof import('@bull-board/express');
  const board = new ExpressAdapter();
  board.setBasePath(ADMIN_QUEUES_PATH);
  createBullBoard({
    queues: [new BullMQAdapter(ctx.queue, { readOnlyMode: true, description: 'alert sends: job id = alert id, priority flash=1 … routine=4' })],
    // @bull-board/express pins its own copy of @bull-board/api; the two agree at run time.
    serverAdapter: board as unknown as Parameters<typeof createBullBoard>[0]['serverAdapter'],
    options: { uiConfig: { boardTitle: 'Flashwire queues' } },
  });
  return board.getRouter() as Router;
}

export function adminRouter(ctx: Pick<ApiContext, 'apiKeys' | 'queue'>): Router {
  let board: Router | undefined;
  const r = Router();
  r.use(ADMIN_QUEUES_PATH, requireAdmin(ctx.apiKeys), (req: Request, res: Response, next: NextFunction) => {
    board ??= boardRouter(ctx);
    board(req, res, next);
  });
  return r;
}
