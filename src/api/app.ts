/**
 * The API role's request handler: newsroom ingest and alert reads, in an
 * express application behind the accept lane (accept-lane.ts), which takes
 * a plain POST /v1/alerts first. Health and readiness are served by the
 * HTTP front for every role.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import express from 'express';
import { acceptLane } from './accept-lane';
import type { ApiContext } from './context';
import { ApiError } from './errors';
import { AlertPoster } from './post-alert';
import { errorAnswerer, problemMiddleware } from './problems';
import { requestId } from './request-id';
import { adminRouter } from './routes/admin';
import { alertsRouter } from './routes/alerts';
import { audienceRouter } from './routes/audience';
import { feedRouter } from './routes/feed';
import { pushRouter } from './routes/push';
import { webhooksRouter } from './routes/webhooks';

export function createApi(ctx: ApiContext): (req: IncomingMessage, res: ServerResponse) => void {
  const poster = new AlertPoster(ctx);
  const answerError = errorAnswerer(ctx.log, () => ctx.redis.status === 'ready');
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', false);
  app.use(requestId(ctx.log));
  app.use(alertsRouter(ctx, poster));
  app.use(adminRouter(ctx));
  app.use(feedRouter(ctx));
  app.use(audienceRouter(ctx));
  app.use(pushRouter(ctx));
  app.use(webhooksRouter(ctx));
  app.use((req) => {
    throw new ApiError('not_found', `no route for ${req.method} ${req.path}`);
  });
  app.use(problemMiddleware(answerError));
  const lane = acceptLane({ apiKeys: ctx.apiKeys, poster, log: ctx.log, bodyLimitBytes: ctx.settings.FLASHWIRE_BODY_LIMIT_BYTES, answerError });
  return (req, res) => {
    if (!lane(req, res)) app(req, res);
  };
}
