/**
 * /v1/alerts: posting (the alert itself is validated, made durable and
 * handed on in ../post-alert.ts, a 202 only once it is in Redis), reading
 * back with its report, correcting, retracting, approving and rejecting.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { ALERT_ID_PATTERN } from '../../alert/ids';
import { alertPatchSchema, rejectSchema, retractSchema, UNCHANGEABLE_FIELDS, UNCHANGEABLE_MESSAGE } from '../../alert/schema';
import { covers, isValidSubscription } from '../../alert/topics';
import { STATUSES, type AlertResource } from '../../alert/schema';
import type { Principal } from '../../auth/principal';
import { looksLikeJwt } from '../../auth/subscriber-token';
import { metrics } from '../../metrics/metrics';
import { enqueueSend } from '../../queue/alert-queue';
import type { ChangeOutcome } from '../../store/alert-changes';
import { listAlerts } from '../../store/alert-list';
import { toResource } from '../../store/alert-store';
import { bearer, CHALLENGE, requireKey, requireKeyCached } from '../auth';
import { jsonBody } from '../body';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { AlertPoster, type AlertPost } from '../post-alert';
import { validationError } from '../problems';
import { publishRateLimit } from '../rate-limit';
import { mayReadAlert, readPrincipal } from '../read-access';

function publisherName(req: Request): string {
  const p = req.principal;
  return p?.kind === 'key' ? p.name : 'unknown';
}

function alertIdParam(req: Request): string {
  const id = String(req.params.id);
  if (!ALERT_ID_PATTERN.test(id)) throw new ApiError('not_found', `no alert ${id}`);
  return id;
}

/**
 * Whether the caller may see this alert: the one check behind both
 * GET /v1/alerts/{id} and the listing, so the two can never disagree.
 */
/** The one visibility rule, as GET /v1/alerts/{id} applies it: the publishing key sees its own private alerts too. */
function maySee(principal: Principal | undefined, alert: AlertResource): boolean {
  return mayReadAlert(principal, alert.topics, alert.publishedBy);
}

interface ListParams {
  status?: string;
  topic?: string;
  limit: number;
  after?: string;
}

function listParams(req: Request): ListParams {
  const one = (name: string): string | undefined => {
    const v = req.query[name];
    if (v === undefined) return undefined;
    if (typeof v !== 'string') throw validationFailed([{ path: name, message: 'must be given once' }]);
    return v;
  };
  const errors: { path: string; message: string }[] = [];
  const status = one('status');
  if (status !== undefined && !(STATUSES as readonly string[]).includes(status)) errors.push({ path: 'status', message: `must be one of ${STATUSES.join(', ')}` });
  const topic = one('topic');
  if (topic !== undefined && !isValidSubscription(topic)) errors.push({ path: 'topic', message: 'must be a topic (e.g. europe/ukraine) or *' });
  const rawLimit = one('limit');
  const limit = rawLimit === undefined ? 20 : Number(rawLimit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100 || (rawLimit !== undefined && !/^\d+$/.test(rawLimit))) errors.push({ path: 'limit', message: 'must be an integer from 1 to 100' });
  const after = one('after');
  if (after !== undefined && !ALERT_ID_PATTERN.test(after)) errors.push({ path: 'after', message: 'must be an alert id (the "next" of the previous page)' });
  if (errors.length) throw validationFailed(errors);
  return { status, topic, limit, after };
}

function validationFailed(errors: { path: string; message: string }[]): ApiError {
  return new ApiError('validation_failed', `invalid ${errors.map((e) => `${e.path} ${e.message}`).join('; ')}`, errors);
}

export function alertsRouter(ctx: ApiContext, poster: AlertPoster): Router {
  const r = Router();
  const publish = requireKey(ctx.apiKeys, 'publish');
  const rateLimit = publishRateLimit(ctx);
  const body = jsonBody(ctx.settings.FLASHWIRE_BODY_LIMIT_BYTES);

  const approve = requireKey(ctx.apiKeys, 'approve');

  // POST /v1/alerts reads its key from this process's cache: the accept
  // script re-checks it in the same round trip as the write, and every other
  // answer confirms it first (poster.checkedFirst), so a revocation holds at once.
  const publishCached = requireKeyCached(ctx.apiKeys, 'publish');
  const postOf = (req: Request): Pick<AlertPost, 'key' | 'dryRun'> => ({ key: req.cachedKey!, dryRun: isDryRun(req) });
  // A body refused before the accept is answered after the checks the accept would have made.
  const bodyCheckedFirst = (req: Request, res: Response, next: NextFunction): void => {
    const refuse = (err: unknown) => poster.checkedFirst(postOf(req)).then(() => next(err), next);
    try {
      body(req, res, (err?: unknown) => (err ? void refuse(err) : next()));
    } catch (err) {
      void refuse(err);
    }
  };

  r.post('/v1/alerts', publishCached, bodyCheckedFirst, async (req: Request, res: Response) => {
    const answer = await poster.post({ ...postOf(req), body: req.body, headers: req.headers });
    res.status(answer.status).set(answer.headers).type('application/json').send(answer.body);
  });

  r.get('/v1/alerts/:id', async (req: Request, res: Response) => {
    const id = alertIdParam(req);
    const principal = await readPrincipal(ctx, req);
    const alert = await ctx.alerts.resource(id);
    // An alert the caller may not read is a 404, never a hint that it exists.
    if (!alert || !maySee(principal, alert)) throw new ApiError('not_found', `no alert ${id}`);
    res.json(alert);
  });

  // Any of the newsroom's API keys may list; private alerts only as above.
  r.get('/v1/alerts', async (req: Request, res: Response) => {
    const secret = bearer(req);
    if (!secret) throw new ApiError('unauthorized', 'listing alerts needs an API key as "Authorization: Bearer KEY"', undefined, CHALLENGE);
    const principal = await ctx.apiKeys.authenticate(secret);
    if (!principal) {
      throw new ApiError('unauthorized', looksLikeJwt(secret) ? 'a subscriber token cannot list alerts; send an API key' : 'unknown or revoked API key', undefined, CHALLENGE);
    }
    const q = listParams(req);
    const page = await listAlerts(ctx.redis, ctx.keys, ctx.alerts, {
      limit: q.limit,
      after: q.after,
      accept: (a) => maySee(principal, a) && (q.status === undefined || a.status === q.status) && (q.topic === undefined || a.topics.some((t) => covers(q.topic!, t))),
    });
    res.json(page);
  });

  // Corrections and retractions are writes to the feed too: the same per-key limit as posting.
  r.patch('/v1/alerts/:id', publish, rateLimit, body, async (req: Request, res: Response) => {
    const id = alertIdParam(req);
    const parsed = alertPatchSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, req.body, (f) => (UNCHANGEABLE_FIELDS.has(f) ? UNCHANGEABLE_MESSAGE : 'is not a known field'));
    const out = await ctx.changes.correct(id, parsed.data, publisherName(req));
    await answerChange(ctx, res, id, out, 'corrected');
  });

  r.post('/v1/alerts/:id/retract', publish, rateLimit, body, async (req: Request, res: Response) => {
    const id = alertIdParam(req);
    const parsed = retractSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, req.body);
    const out = await ctx.changes.retract(id, parsed.data.reason, publisherName(req));
    await answerChange(ctx, res, id, out, 'retracted');
  });

  r.post('/v1/alerts/:id/approve', approve, async (req: Request, res: Response) => {
    const id = alertIdParam(req);
    const by = publisherName(req);
    const rec = await ctx.alerts.get(id);
    if (!rec) throw new ApiError('not_found', `no alert ${id}`);
    if (rec.publishedBy === by) throw new ApiError('forbidden', `the key "${by}" published alert ${id}; a second editor (another key with the approve scope) must approve it`);
    const out = await ctx.changes.approve(id, by);
    if (out.kind === 'missing') throw new ApiError('not_found', `no alert ${id}`);
    if (out.kind === 'conflict') throw new ApiError('conflict', `alert ${id} is ${out.status}, not pending_approval; only a pending alert can be approved`);
    // The record says queued (or scheduled) before the job exists: if this
    // request dies in between, the approval deadline's job queues it.
    const delayMs = out.record.sendAt ? Date.parse(out.record.sendAt) - Date.now() : 0;
    await enqueueSend(ctx.queue, { alertId: id, priority: out.record.priority, delayMs, attempts: ctx.settings.FLASHWIRE_JOB_ATTEMPTS });
    ctx.log.info({ alertId: id, approvedBy: by, ...(delayMs > 0 ? { sendAt: out.record.sendAt } : {}) }, delayMs > 0 ? 'alert approved; scheduled' : 'alert approved; queued');
    res.json((await ctx.alerts.resource(id)) ?? toResource(out.record));
  });

  r.post('/v1/alerts/:id/reject', approve, body, async (req: Request, res: Response) => {
    const id = alertIdParam(req);
    const parsed = rejectSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, req.body);
    const out = await ctx.changes.reject(id, parsed.data.reason, publisherName(req));
    if (out.kind === 'missing') throw new ApiError('not_found', `no alert ${id}`);
    if (out.kind === 'conflict') throw new ApiError('conflict', `alert ${id} is ${out.status}, not pending_approval; only a pending alert can be rejected`);
    ctx.log.info({ alertId: id, rejectedBy: publisherName(req), reason: parsed.data.reason }, 'alert rejected');
    res.json((await ctx.alerts.resource(id)) ?? toResource(out.record));
  });

  return r;
}

/** `?dryRun=true`: validate and count the audience, create nothing. */
function isDryRun(req: Request): boolean {
  const v = req.query.dryRun;
  return v === 'true' || v === '1';
}

async function answerChange(ctx: ApiContext, res: Response, id: string, out: ChangeOutcome, what: 'corrected' | 'retracted'): Promise<void> {
  if (out.kind === 'missing') throw new ApiError('not_found', `no alert ${id}`);
  if (out.kind === 'conflict') throw new ApiError('conflict', `alert ${id} is ${out.status}; it can no longer be ${what}`);
  (what === 'corrected' ? metrics.alertsCorrected : metrics.alertsRetracted).inc();
  if (out.eventId) ctx.log.info({ alertId: id, eventId: out.eventId }, `alert ${what} in the feed`);
  else ctx.log.info({ alertId: id }, `alert ${what}`);
  res.json((await ctx.alerts.resource(id)) ?? toResource(out.record));
}
