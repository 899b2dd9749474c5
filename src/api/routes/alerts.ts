/**
 * /v1/alerts: where an alert is validated, made durable and handed to the
 * queue. A 202 is sent only after both the record and the job are in Redis.
 */
import { Router, type Request, type Response } from 'express';
import { newAlertId, ALERT_ID_PATTERN } from '../../alert/ids';
import { alertInputSchema } from '../../alert/schema';
import { isPrivateTopic } from '../../alert/topics';
import { enqueueSend } from '../../queue/alert-queue';
import { newRecord, toResource, type AlertRecord } from '../../store/alert-store';
import { requireKey } from '../auth';
import { jsonBody } from '../body';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { validationError } from '../problems';
import { canReadTopics, readPrincipal } from '../read-access';

export function alertsRouter(ctx: ApiContext): Router {
  const r = Router();
  const publish = requireKey(ctx.apiKeys, 'publish');
  const body = jsonBody(ctx.settings.FLASHWIRE_BODY_LIMIT_BYTES);

  r.post('/v1/alerts', publish, body, async (req: Request, res: Response) => {
    const parsed = alertInputSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error);
    const input = parsed.data;
    const now = new Date();
    const rec = newRecord(newAlertId(now.getTime()), input, req.principal!.kind === 'key' ? req.principal!.name : 'unknown', now);
    await accept(ctx, rec);
    ctx.log.info({ alertId: rec.id, status: rec.status, priority: rec.priority, topics: rec.topics, publishedBy: rec.publishedBy }, 'alert accepted');
    res.status(202).location(`/v1/alerts/${rec.id}`).json(toResource(rec));
  });

  r.get('/v1/alerts/:id', async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const notFound = new ApiError('not_found', `no alert ${id}`);
    if (!ALERT_ID_PATTERN.test(id)) throw notFound;
    const principal = await readPrincipal(ctx, req);
    const alert = await ctx.alerts.resource(id);
    // An alert the caller may not read is a 404, never a hint that it exists.
    if (!alert || (alert.topics.some(isPrivateTopic) && !canReadTopics(principal, alert.topics))) throw notFound;
    res.json(alert);
  });

  return r;
}

/** Makes the alert durable and queues its send (delayed for an embargo). */
async function accept(ctx: ApiContext, rec: AlertRecord): Promise<void> {
  await ctx.alerts.create(rec);
  const delayMs = rec.sendAt ? Date.parse(rec.sendAt) - Date.now() : 0;
  await enqueueSend(ctx.queue, { alertId: rec.id, priority: rec.priority, delayMs, attempts: ctx.settings.FLASHWIRE_JOB_ATTEMPTS });
}
