/**
 * POST /v1/alerts once its key and body are read: where an alert is
 * validated, accepted (src/api/accept.ts) and answered. Both ways in share
 * it, so they cannot answer differently: the express route, and the accept
 * lane (accept-lane.ts), which reads a plain JSON body without express.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { newAlertId } from '../alert/ids';
import { alertInputSchema } from '../alert/schema';
import type { CachedKey } from '../auth/api-keys';
import { failpoint } from '../faults/failpoint';
import { metrics, observeSent } from '../metrics/metrics';
import { enqueueApprovalTimeout, enqueueSend, PRIORITY_RANK } from '../queue/alert-queue';
import { newRecord, toResource, type AlertRecord } from '../store/alert-store';
import { acceptAlert } from './accept';
import { confirmKey, unknownKey } from './auth';
import type { ApiContext } from './context';
import { ApiError } from './errors';
import { fingerprint, Idempotency, idempotencyKeyOf, REPLAYED_HEADER } from './idempotency';
import { validationError } from './problems';
import { countPublish, publishRateLimited } from './rate-limit';

export interface AlertPost {
  /** The publishing key, from this process's cache: the accept re-checks it. */
  key: CachedKey;
  /** The parsed JSON body. */
  body: unknown;
  /** `?dryRun=true`: validate and count the audience, create nothing. */
  dryRun: boolean;
  headers: IncomingHttpHeaders;
}

/** What to answer: always a JSON body (UTF-8). */
export interface PostAnswer {
  status: 200 | 202;
  headers: Record<string, string>;
  body: string;
}

export class AlertPoster {
  private readonly idempotency: Idempotency;

  constructor(private readonly ctx: ApiContext) {
    this.idempotency = new Idempotency(ctx.redis, ctx.keys);
  }

  /**
   * For an answer given before the accept script (a bad body, a dry run's
   * error): first what the checks before it would have said, a 401 for a
   * revoked key, then, counting the write as before, a 429.
   */
  async checkedFirst(p: Pick<AlertPost, 'key' | 'dryRun'>): Promise<void> {
    await confirmKey(this.ctx.apiKeys, p.key);
    // A dry run creates nothing, so it does not count against the publish rate.
    if (!p.dryRun) await countPublish(this.ctx, p.key.principal.name);
  }

  async post(p: AlertPost): Promise<PostAnswer> {
    const ctx = this.ctx;
    const parsed = alertInputSchema.safeParse(p.body);
    if (!parsed.success) {
      await this.checkedFirst(p);
      throw validationError(parsed.error, p.body);
    }
    const input = parsed.data;
    if (p.dryRun) {
      await confirmKey(ctx.apiKeys, p.key);
      return { status: 200, headers: {}, body: JSON.stringify({ valid: true, audience: await ctx.audience.count(input.topics) }) };
    }
    let idemKey: string | undefined;
    try {
      idemKey = idempotencyKeyOf(p.headers);
    } catch (err) {
      await this.checkedFirst(p);
      throw err;
    }
    const by = p.key.principal.name;
    const createdAt = Date.now();
    const rec = newRecord(newAlertId(createdAt), input, by, new Date(createdAt), ctx.settings.FLASHWIRE_APPROVAL_PRIORITIES.includes(input.priority));
    // Chosen here, before the round trip, so the 202 to remember goes with it.
    const text = JSON.stringify(toResource(rec));
    failpoint('api-before-accept');
    const out = await acceptAlert(ctx, {
      key: p.key,
      rec,
      idempotency: idemKey === undefined ? undefined : { redisKey: this.idempotency.key(by, idemKey), fingerprint: fingerprint(p.body) },
      response: text,
      job: rec.status === 'pending_approval' ? { kind: 'approval', delayMs: approvalDeadline(ctx, rec) - Date.now() } : { kind: 'send', delayMs: sendDelay(rec) },
    });
    switch (out.kind) {
      case 'revoked':
        if (p.key.principal.keyHash) ctx.apiKeys.forget(p.key.principal.keyHash);
        throw unknownKey();
      case 'limited':
        throw publishRateLimited(ctx, by, out.retryMs);
      case 'mismatch':
        throw idempotencyKeyReused(idemKey!);
      case 'done': {
        const replay = JSON.parse(out.response) as { id: string };
        return accepted(replay.id, out.response, true);
      }
      case 'pending': {
        // An earlier request with this key made (or was making) its alert
        // and did not finish: finish that one, step by step.
        const pending = newRecord(out.alertId, input, by, new Date(out.createdAt), rec.status === 'pending_approval');
        const created = await finish(ctx, pending);
        const pendingText = JSON.stringify(toResource(pending));
        await this.idempotency.complete(by, idemKey!, pendingText);
        failpoint('api-before-answer');
        // Another request with this key made the record first: this is its replay.
        if (created) logAccepted(ctx, pending);
        return accepted(pending.id, pendingText, !created);
      }
      case 'created':
      case 'sent':
      case 'expired':
        failpoint('api-before-answer');
        logAccepted(ctx, rec);
        if (out.kind === 'created') noteAccepted(ctx, rec);
        else noteSentAtOnce(ctx, rec, out.kind === 'sent' ? out.eventId : undefined);
        // The body is the alert as accepted (status queued, as the 202 that
        // an Idempotency-Key replays); GET shows it sent.
        return accepted(rec.id, text, false);
    }
  }
}

function accepted(id: string, body: string, replayed: boolean): PostAnswer {
  const headers: Record<string, string> = { Location: `/v1/alerts/${id}` };
  if (replayed) headers[REPLAYED_HEADER] = 'true';
  return { status: 202, headers, body };
}

function logAccepted(ctx: ApiContext, rec: AlertRecord): void {
  ctx.log.info({ alertId: rec.id, status: rec.status, priority: rec.priority, topics: rec.topics, publishedBy: rec.publishedBy }, 'alert accepted');
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
async function finish(ctx: ApiContext, rec: AlertRecord): Promise<boolean> {
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
