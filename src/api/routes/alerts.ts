/**
 * /v1/alerts: where an alert is validated, made durable and handed to the
 * queue, read back with its report, corrected and retracted. A 202 is sent
 * only after both the record and the job are in Redis.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { newAlertId, ALERT_ID_PATTERN } from '../../alert/ids';
import { alertInputSchema, alertPatchSchema, rejectSchema, retractSchema, UNCHANGEABLE_FIELDS, UNCHANGEABLE_MESSAGE } from '../../alert/schema';
import { covers, isPrivateTopic, isValidSubscription } from '../../alert/topics';
import { STATUSES, type AlertResource } from '../../alert/schema';
import type { Principal } from '../../auth/principal';
import { looksLikeJwt } from '../../auth/subscriber-token';
import { failpoint } from '../../faults/failpoint';
import { metrics, observeSent } from '../../metrics/metrics';
import { enqueueApprovalTimeout, enqueueSend, PRIORITY_RANK } from '../../queue/alert-queue';
import type { ChangeOutcome } from '../../store/alert-changes';
import { listAlerts } from '../../store/alert-list';
import { newRecord, toResource, type AlertRecord } from '../../store/alert-store';
import { acceptAlert } from '../accept';
import { bearer, CHALLENGE, confirmKey, requireKey, requireKeyCached, unknownKey } from '../auth';
import { jsonBody } from '../body';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { fingerprint, Idempotency, idempotencyKeyOf, REPLAYED_HEADER } from '../idempotency';
import { validationError } from '../problems';
import { countPublish, publishRateLimit, publishRateLimited } from '../rate-limit';
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

export function alertsRouter(ctx: ApiContext): Router {
  const r = Router();
  const publish = requireKey(ctx.apiKeys, 'publish');
  const rateLimit = publishRateLimit(ctx);
  const body = jsonBody(ctx.settings.FLASHWIRE_BODY_LIMIT_BYTES);
  const idempotency = new Idempotency(ctx.redis, ctx.keys);

  const approve = requireKey(ctx.apiKeys, 'approve');

  // POST /v1/alerts reads its key from this process's cache: the accept
  // script re-checks it in the same round trip as the write, and every other
  // answer confirms it first (checkedFirst), so a revocation holds at once.
  const publishCached = requireKeyCached(ctx.apiKeys, 'publish');
  // An answer given before the accept script (a bad body, a dry run's
  // error) first says what the checks before it would have said: a 401 for
  // a revoked key, then, counting the write as before, a 429.
  const checkedFirst = async (req: Request): Promise<void> => {
    await confirmKey(ctx.apiKeys, req);
    // A dry run creates nothing, so it does not count against the publish rate.
    if (!isDryRun(req)) await countPublish(ctx, req);
  };
  const bodyCheckedFirst = (req: Request, res: Response, next: NextFunction): void => {
    const refuse = (err: unknown) => checkedFirst(req).then(() => next(err), next);
    try {
      body(req, res, (err?: unknown) => (err ? void refuse(err) : next()));
    } catch (err) {
      void refuse(err);
    }
  };

  r.post('/v1/alerts', publishCached, bodyCheckedFirst, async (req: Request, res: Response) => {
    const parsed = alertInputSchema.safeParse(req.body);
    if (!parsed.success) {
      await checkedFirst(req);
      throw validationError(parsed.error, req.body);
    }
    const input = parsed.data;
    if (isDryRun(req)) {
      await confirmKey(ctx.apiKeys, req);
      res.status(200).json({ valid: true, audience: await ctx.audience.count(input.topics) });
      return;
    }
    let idemKey: string | undefined;
    try {
      idemKey = idempotencyKeyOf(req);
    } catch (err) {
      await checkedFirst(req);
      throw err;
    }
    const by = publisherName(req);
    const createdAt = Date.now();
    const rec = newRecord(newAlertId(createdAt), input, by, new Date(createdAt), ctx.settings.FLASHWIRE_APPROVAL_PRIORITIES.includes(input.priority));
    // Chosen here, before the round trip, so the 202 to remember goes with it.
    const text = JSON.stringify(toResource(rec));
    failpoint('api-before-accept');
    const out = await acceptAlert(ctx, {
      key: req.cachedKey!,
      rec,
      idempotency: idemKey === undefined ? undefined : { redisKey: idempotency.key(by, idemKey), fingerprint: fingerprint(req.body) },
      response: text,
      job: rec.status === 'pending_approval' ? { kind: 'approval', delayMs: approvalDeadline(ctx, rec) - Date.now() } : { kind: 'send', delayMs: sendDelay(rec) },
    });
    switch (out.kind) {
      case 'revoked':
        if (req.cachedKey?.principal.keyHash) ctx.apiKeys.forget(req.cachedKey.principal.keyHash);
        throw unknownKey();
      case 'limited':
        throw publishRateLimited(ctx, by, out.retryMs);
      case 'mismatch':
        throw idempotencyKeyReused(idemKey!);
      case 'done': {
        const replay = JSON.parse(out.response) as { id: string };
        res.status(202).location(`/v1/alerts/${replay.id}`).set(REPLAYED_HEADER, 'true').type('application/json').send(out.response);
        return;
      }
      case 'pending': {
        // An earlier request with this key made (or was making) its alert
        // and did not finish: finish that one, step by step.
        const pending = newRecord(out.alertId, input, by, new Date(out.createdAt), rec.status === 'pending_approval');
        const created = await accept(ctx, pending);
        const pendingText = JSON.stringify(toResource(pending));
        await idempotency.complete(by, idemKey!, pendingText);
        failpoint('api-before-answer');
        // Another request with this key made the record first: this is its replay.
        if (!created) res.set(REPLAYED_HEADER, 'true');
        else ctx.log.info({ alertId: pending.id, status: pending.status, priority: pending.priority, topics: pending.topics, publishedBy: pending.publishedBy }, 'alert accepted');
        res.status(202).location(`/v1/alerts/${pending.id}`).type('application/json').send(pendingText);
        return;
      }
      case 'created':
      case 'sent':
      case 'expired':
        failpoint('api-before-answer');
        ctx.log.info({ alertId: rec.id, status: rec.status, priority: rec.priority, topics: rec.topics, publishedBy: rec.publishedBy }, 'alert accepted');
        if (out.kind === 'created') noteAccepted(ctx, rec);
        else noteSentAtOnce(ctx, rec, out.kind === 'sent' ? out.eventId : undefined);
        // The body is the alert as accepted (status queued, as the 202 that
        // an Idempotency-Key replays); GET shows it sent.
        res.status(202).location(`/v1/alerts/${rec.id}`).type('application/json').send(text);
    }
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

function approvalDeadline(ctx: ApiContext, rec: AlertRecord): number {
  return Date.parse(rec.createdAt) + ctx.settings.FLASHWIRE_APPROVAL_TIMEOUT_SECONDS * 1000;
}

function sendDelay(rec: AlertRecord): number {
  return rec.sendAt ? Date.parse(rec.sendAt) - Date.now() : 0;
}

function idempotencyKeyReused(idemKey: string): ApiError {
  return new ApiError('idempotency_key_reused', `the Idempotency-Key "${idemKey}" was used by this key with another body in the last 24 hours; use a new key for a new alert`);
}

/** Counts and logs a newly created alert, once. */
function noteAccepted(ctx: ApiContext, rec: AlertRecord): void {
  metrics.alertsAccepted.inc({ priority: rec.priority });
  if (rec.status === 'pending_approval') {
    ctx.log.info({ alertId: rec.id, priority: rec.priority, approvalDeadline: new Date(approvalDeadline(ctx, rec)).toISOString() }, 'alert waiting for approval');
    return;
  }
  const scheduled = sendDelay(rec) > 0;
  ctx.log.info({ alertId: rec.id, priority: rec.priority, ...(scheduled ? { sendAt: rec.sendAt } : {}) }, scheduled ? 'alert scheduled' : 'alert queued');
}

/** Counts and logs an alert the accept sent itself (eventId), or found expired. */
function noteSentAtOnce(ctx: ApiContext, rec: AlertRecord, eventId: string | undefined): void {
  metrics.alertsAccepted.inc({ priority: rec.priority });
  if (eventId === undefined) {
    metrics.alertsExpired.inc();
    ctx.log.info({ alertId: rec.id }, 'alert expired before it could be sent');
    return;
  }
  observeSent(rec.id, eventId, undefined, PRIORITY_RANK[rec.priority]);
  ctx.log.info({ alertId: rec.id, eventId, sentBy: 'api' }, 'alert entered the feed');
}

/**
 * Finishes an alert step by step, for an Idempotency-Key whose first
 * request did not: makes the record unless it is there and queues its
 * send (delayed for an embargo), or its approval deadline. Both steps are
 * safe to repeat. Resolves true when this call created the record.
 */
async function accept(ctx: ApiContext, rec: AlertRecord): Promise<boolean> {
  const created = await ctx.alerts.create(rec);
  failpoint('api-after-record');
  if (rec.status === 'pending_approval') {
    // Nothing is queued to send until a second editor approves; only the deadline is.
    await enqueueApprovalTimeout(ctx.queue, { alertId: rec.id, delayMs: approvalDeadline(ctx, rec) - Date.now(), attempts: ctx.settings.FLASHWIRE_JOB_ATTEMPTS });
    // Its deadline is queued: the orphan sweep has nothing to settle.
    await ctx.alerts.queued(rec.id);
    if (created) noteAccepted(ctx, rec);
    return created;
  }
  await enqueueSend(ctx.queue, { alertId: rec.id, priority: rec.priority, delayMs: sendDelay(rec), attempts: ctx.settings.FLASHWIRE_JOB_ATTEMPTS });
  if (!(await ctx.alerts.queued(rec.id))) {
    // Not waiting any more: an earlier request with this Idempotency-Key
    // finished it, or this one took so long that the orphan sweep marked it
    // failed; never answer 202 for an alert that will not be sent.
    const now = await ctx.alerts.get(rec.id);
    if (now?.status === 'failed') {
      throw new ApiError('conflict', `alert ${rec.id} was marked failed: its send was not queued within FLASHWIRE_ORPHAN_GRACE_SECONDS; nothing was sent. Post it again with a new Idempotency-Key`);
    }
  }
  if (created) noteAccepted(ctx, rec);
  return created;
}
