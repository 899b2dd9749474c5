/**
 * Accepting an alert in one round trip and one fsync (see
 * src/redis/lua/accept-*.lua for the scripts).
 *
 * An alert that may go at once (no embargo, no approval) is accepted by the
 * accept script alone, which also sends it while a worker runs and the
 * queue is idle: the feed then holds alerts in the order they were accepted
 * (workers taking jobs concurrently could swap two), the first reader has
 * it two disk writes sooner, and no job is made. Behind a backlog the
 * script only writes the record, and a second round trip adds the job.
 *
 * An alert that needs a job (an embargo, an approval deadline) is accepted
 * by a MULTI of the accept script (key still stored, rate limit,
 * Idempotency-Key, record), BullMQ's own job add, and the settle script.
 *
 * Either way nothing is half-made however the request ends: a record
 * without its job has no 202 to replay and is settled by a retry with its
 * Idempotency-Key or by the orphan sweep.
 */
import type { IRedisClient, IRedisTransaction } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import type { CachedKey } from '../auth/api-keys';
import { approvalJobId, enqueueApprovalTimeoutIn, enqueueSendIn, QUEUE_NAME } from '../queue/alert-queue';
import { failpoint } from '../faults/failpoint';
import { defineScripts, pipeScript, runScript } from '../redis/scripts';
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
  const jobKey = ctx.keys.sendJob(QUEUE_NAME, a.job.kind === 'send' ? rec.id : approvalJobId(rec.id));
  const idemKey = a.idempotency?.redisKey ?? ctx.keys.alert(rec.id);
  const q = (name: Parameters<typeof ctx.keys.queueKey>[1]) => ctx.keys.queueKey(QUEUE_NAME, name);
  const keys = [ctx.keys.apiKeys, publishRateKey(ctx, rec.publishedBy), idemKey, ctx.keys.alert(rec.id), ctx.keys.unqueued, jobKey, ctx.keys.feed, ctx.keys.workers, q('wait'), q('paused'), q('active'), q('prioritized'), q('meta')];
  const head = [a.key.principal.keyHash ?? '', a.key.stored, ctx.settings.FLASHWIRE_PUBLISH_RATE_PER_MINUTE, PUBLISH_WINDOW_MS, a.idempotency?.fingerprint ?? '', IDEMPOTENCY_TTL_MS, a.response, ctx.alerts.retentionMs, rec.id, Date.parse(rec.createdAt)];
  const settle = (m: IRedisTransaction, response: string) =>
    pipeScript(m as unknown as ChainableCommander, 'acceptSettle', [jobKey, ctx.keys.unqueued, idemKey], [rec.id, a.idempotency ? '1' : '0', response]);

  if (mayGoNow(ctx, a)) {
    // The script alone: with the pipeline idle it sends the alert, and no job is needed.
    const out = scriptOutcome((await runScript(client as unknown as Redis, 'acceptAlert', keys, [...head, ...directSendArgs(ctx, a), ...recordFields(rec)])) as ScriptAnswer);
    if (out.kind !== 'created') return out;
    failpoint('api-before-queue');
    // Behind a backlog: queue it now. Until the job is there, the record
    // waits for the orphan sweep and the Idempotency-Key holds no 202 to
    // replay (a retry would finish this alert), as after a crash between two steps.
    const multi = client.multi();
    await enqueueSendIn(multi, ctx.queue, { alertId: rec.id, priority: rec.priority, delayMs: 0, attempts: ctx.settings.FLASHWIRE_JOB_ATTEMPTS });
    settle(multi, a.response);
    const [[addErr], [settleErr, settled]] = await exec(multi, 2);
    return queued(addErr, settleErr, settled);
  }

  const multi = client.multi();
  pipeScript(multi as unknown as ChainableCommander, 'acceptAlert', keys, [...head, ...NO_DIRECT_SEND, ...recordFields(rec)]);
  const attempts = ctx.settings.FLASHWIRE_JOB_ATTEMPTS;
  if (a.job.kind === 'send') await enqueueSendIn(multi, ctx.queue, { alertId: rec.id, priority: rec.priority, delayMs: a.job.delayMs, attempts });
  else await enqueueApprovalTimeoutIn(multi, ctx.queue, { alertId: rec.id, delayMs: a.job.delayMs, attempts });
  settle(multi, '');
  const [[scriptErr, answer], [addErr], [settleErr, settled]] = await exec(multi, 3);
  if (scriptErr) throw scriptErr;
  const out = scriptOutcome(answer as ScriptAnswer);
  return out.kind === 'created' ? queued(addErr, settleErr, settled) : out;
}

/** An alert that needs no job unless the queue is busy: no embargo, no approval. */
function mayGoNow(ctx: ApiContext, a: AcceptRequest): boolean {
  return a.job.kind === 'send' && a.job.delayMs <= 0 && ctx.settings.FLASHWIRE_DIRECT_SEND;
}

/** accept-alert's ARGV[11..17] when a job add follows it in the MULTI: no send of its own. */
const NO_DIRECT_SEND: (string | number)[] = ['0', '', '', '', '', 0, 0];

/** accept-alert's ARGV[11..17] when it runs alone: what to append if it may send the alert itself. */
function directSendArgs(ctx: ApiContext, a: AcceptRequest): (string | number)[] {
  const sentAt = new Date().toISOString();
  const entry = alertEntry(a.rec, toPayload({ ...a.rec, sentAt }));
  return ['1', entry.body, entry.topics, entry.exp, sentAt, ctx.settings.FLASHWIRE_FEED_MAX_ENTRIES, ctx.settings.FLASHWIRE_FEED_RETENTION_SECONDS * 1000];
}

type Reply = [Error | null, unknown];
type ScriptAnswer = [string, string | number | undefined, string | undefined];

async function exec<N extends 2 | 3>(multi: IRedisTransaction, commands: N): Promise<N extends 2 ? [Reply, Reply] : [Reply, Reply, Reply]> {
  const results = await multi.exec().catch((err: unknown) => {
    // EXECABORT: Redis refused a command as it was queued (out of memory,
    // say) and ran none; the refusal says why, the abort does not.
    throw (err as { previousErrors?: Error[] }).previousErrors?.[0] ?? err;
  });
  // Null only when a WATCHed key changed, and nothing is watched here.
  if (!results || results.length !== commands) throw new Error('the accept transaction was not run');
  return results as N extends 2 ? [Reply, Reply] : [Reply, Reply, Reply];
}

/** The record's job is in the queue: the settle script says so, or the add's error says why not. */
function queued(addErr: Error | null, settleErr: Error | null, settled: unknown): AcceptOutcome {
  if (settleErr) throw settleErr;
  // The record is there without its job: the orphan sweep settles it,
  // and the Idempotency-Key lets a retry finish it.
  if (settled !== 'queued') throw addErr ?? new Error(`the send job was not added (${String(settled)})`);
  return { kind: 'created' };
}

function scriptOutcome([kind, x, y]: ScriptAnswer): AcceptOutcome {
  switch (kind) {
    case 'created':
      return { kind };
    // Sent (or expired) by the script: the alert is settled, whatever comes after.
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
