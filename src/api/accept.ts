/**
 * Accepting an alert in one round trip and one fsync: a MULTI of the accept
 * script (key still stored, rate limit, Idempotency-Key, record), BullMQ's
 * own job add, and the settle script (see src/redis/lua/accept-*.lua). The
 * job is added only when the script wrote the record, and the record never
 * waits for its job in a separate step, so nothing is half-made however
 * the request ends.
 *
 * An alert that may go at once is sent by the script itself while a worker
 * runs and the queue is idle: the feed then holds alerts in the order they
 * were accepted (workers taking jobs concurrently could swap two), and the
 * first reader has it two disk writes sooner.
 */
import type { IRedisClient, IRedisTransaction } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import type { CachedKey } from '../auth/api-keys';
import { approvalJobId, enqueueApprovalTimeoutIn, enqueueSendIn, QUEUE_NAME } from '../queue/alert-queue';
import { defineScripts, pipeScript } from '../redis/scripts';
import { alertEntry } from '../feed/feed-scripts';
import { recordFields, toPayload, type AlertRecord } from '../store/alert-store';
import type { ApiContext } from './context';
import { IDEMPOTENCY_TTL_MS } from './idempotency';
import { PUBLISH_WINDOW_MS, publishRateKey } from './rate-limit';

export type AcceptOutcome =
  /** Record, job and (with an Idempotency-Key) the 202 to replay are written. */
  | { kind: 'created' }
  /** As created, and sent: its event is in the feed. */
  | { kind: 'sent'; eventId: string }
  /** As created, but past its expiresAt already: marked expired, not sent. */
  | { kind: 'expired' }
  | { kind: 'revoked' }
  | { kind: 'limited'; retryMs: number }
  | { kind: 'mismatch' }
  /** The Idempotency-Key's first request finished: replay its response. */
  | { kind: 'done'; response: string }
  /** The Idempotency-Key's first request did not finish: finish its alert. */
  | { kind: 'pending'; alertId: string; createdAt: number };

export interface AcceptRequest {
  key: CachedKey;
  rec: AlertRecord;
  /** The Idempotency-Key's Redis key and the body's fingerprint, when one was sent. */
  idempotency?: { redisKey: string; fingerprint: string };
  /** The 202's body, remembered for the Idempotency-Key. */
  response: string;
  /** What to queue: the send (delayed for an embargo), or for an alert awaiting approval its deadline. */
  job: { kind: 'send'; delayMs: number } | { kind: 'approval'; delayMs: number };
}

export async function acceptAlert(ctx: ApiContext, a: AcceptRequest): Promise<AcceptOutcome> {
  const { rec } = a;
  const client = (await ctx.queue.client) as unknown as IRedisClient;
  // BullMQ's commands are defined on its connection; ours join them there.
  defineScripts(client as unknown as Redis);
  const multi = client.multi();
  const jobId = a.job.kind === 'send' ? rec.id : approvalJobId(rec.id);
  const jobKey = ctx.keys.sendJob(QUEUE_NAME, jobId);
  const idemKey = a.idempotency?.redisKey ?? ctx.keys.alert(rec.id);
  const q = (name: Parameters<typeof ctx.keys.queueKey>[1]) => ctx.keys.queueKey(QUEUE_NAME, name);
  pipeScript(
    multi as unknown as ChainableCommander,
    'acceptAlert',
    [ctx.keys.apiKeys, publishRateKey(ctx, rec.publishedBy), idemKey, ctx.keys.alert(rec.id), ctx.keys.unqueued, jobKey, ctx.keys.feed, ctx.keys.workers, q('wait'), q('paused'), q('active'), q('prioritized'), q('meta')],
    [
      a.key.principal.keyHash ?? '',
      a.key.stored,
      ctx.settings.FLASHWIRE_PUBLISH_RATE_PER_MINUTE,
      PUBLISH_WINDOW_MS,
      a.idempotency?.fingerprint ?? '',
      IDEMPOTENCY_TTL_MS,
      a.response,
      ctx.alerts.retentionMs,
      rec.id,
      Date.parse(rec.createdAt),
      ...directSendArgs(ctx, a),
      ...recordFields(rec),
    ],
  );
  const attempts = ctx.settings.FLASHWIRE_JOB_ATTEMPTS;
  if (a.job.kind === 'send') await enqueueSendIn(multi, ctx.queue, { alertId: rec.id, priority: rec.priority, delayMs: a.job.delayMs, attempts });
  else await enqueueApprovalTimeoutIn(multi, ctx.queue, { alertId: rec.id, delayMs: a.job.delayMs, attempts });
  pipeScript(multi as unknown as ChainableCommander, 'acceptSettle', [jobKey, ctx.keys.unqueued, idemKey], [rec.id, a.idempotency ? '1' : '0']);
  return outcome(await exec(multi));
}

/** accept-alert's ARGV[11..17]: whether, and what, to append when it may send the alert itself. */
function directSendArgs(ctx: ApiContext, a: AcceptRequest): (string | number)[] {
  const mayGoNow = a.job.kind === 'send' && a.job.delayMs <= 0 && ctx.settings.FLASHWIRE_DIRECT_SEND;
  if (!mayGoNow) return ['0', '', '', '', '', 0, 0];
  const sentAt = new Date().toISOString();
  const entry = alertEntry(a.rec, toPayload({ ...a.rec, sentAt }));
  return ['1', entry.body, entry.topics, entry.exp, sentAt, ctx.settings.FLASHWIRE_FEED_MAX_ENTRIES, ctx.settings.FLASHWIRE_FEED_RETENTION_SECONDS * 1000];
}

type Reply = [Error | null, unknown];

async function exec(multi: IRedisTransaction): Promise<[Reply, Reply, Reply]> {
  const results = await multi.exec().catch((err: unknown) => {
    // EXECABORT: Redis refused a command as it was queued (out of memory,
    // say) and ran none; the refusal says why, the abort does not.
    throw (err as { previousErrors?: Error[] }).previousErrors?.[0] ?? err;
  });
  // Null only when a WATCHed key changed, and nothing is watched here.
  if (!results || results.length !== 3) throw new Error('the accept transaction was not run');
  return results as [Reply, Reply, Reply];
}

function outcome([[scriptErr, answer], [addErr], [settleErr, settled]]: [Reply, Reply, Reply]): AcceptOutcome {
  if (scriptErr) throw scriptErr;
  const [kind, x, y] = answer as [string, string | number | undefined, string | undefined];
  switch (kind) {
    case 'created':
      if (settleErr) throw settleErr;
      // The record is there without its job: the orphan sweep settles it,
      // and the Idempotency-Key lets a retry finish it.
      if (settled !== 'queued') throw addErr ?? new Error(`the send job was not added (${String(settled)})`);
      return { kind };
    // Sent (or expired) by the script, whatever became of the settle: the
    // alert is settled, and an error now would invite a second post.
    case 'appended':
      return { kind: 'sent', eventId: String(x) };
    case 'expired':
      return { kind };
    case 'revoked':
    case 'mismatch':
      return { kind };
    case 'limited':
      return { kind, retryMs: Number(x) };
    case 'done':
      return { kind, response: String(x) };
    case 'pending':
      return { kind, alertId: String(x), createdAt: Number(y) };
    default:
      throw new Error(`accept-alert answered ${String(kind)}`);
  }
}
