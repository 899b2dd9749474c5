/**
 * The API role's express application: newsroom ingest and alert reads.
 * Health and readiness are served by the HTTP front for every role.
 */
import express, { type Express } from 'express';
import type { ApiContext } from './context';
import { ApiError } from './errors';
import { problemMiddleware } from './problems';
import { requestId } from './request-id';
import { adminRouter } from './routes/admin';
import { alertsRouter } from './routes/alerts';
import { audienceRouter } from './routes/audience';
import { feedRouter } from './routes/feed';
import { pushRouter } from './routes/push';
import { webhooksRouter } from './routes/webhooks';

export function createApiApp(ctx: ApiContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.set('trust proxy', false);
  app.use(requestId(ctx.log));
  app.use(alertsRouter(ctx));
  app.use(adminRouter(ctx));
  app.use(feedRouter(ctx));
  app.use(audienceRouter(ctx));
  app.use(pushRouter(ctx));
  app.use(webhooksRouter(ctx));
  app.use((req) => {
    throw new ApiError('not_found', `no route for ${req.method} ${req.path}`);
  });
  app.use(problemMiddleware(ctx.log, () => ctx.redis.status === 'ready'));
  return app;
}
