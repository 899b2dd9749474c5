/**
 * The fan-out worker: takes send jobs off the BullMQ queue (flash first) and
 * appends each alert to the feed exactly once. Gateways tail the feed and do
 * the socket writes, so one append reaches every reader on every gateway.
 * An alert accepted while the queue is idle and a worker runs is appended by
 * the accept itself (src/api/accept.ts); the worker sends what waits: a
 * backlog, embargoes, approvals. Its claim to be running is what allows that.
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings';
import type { Priority } from '../src/alert/schema';
import { failpoint } from '../src/faults/failpoint';
import { FeedScripts } from '../src/feed/feed-scripts';
import { metrics, observeSent } from '../src/metrics/metrics';
import { APPROVAL_TIMEOUT_JOB, createAlertQueue, enqueueSend, QUEUE_NAME, type SendJobData } from '../src/queue/alert-queue';
import type { Keys } from '../src/redis/keys';
import { runScript } from '../src/redis/scripts';
import { within } from '../src/within';
import { AlertChanges } from '../src/store/alert-changes';
import { AlertStore, toPayload } from '../src/store/alert-store';

export interface FanoutWorkerDeps {
  settings: Settings;
  log: Logger;
  /** Connection for BullMQ (it duplicates it for blocking pops). */
  bullConnection: Redis;
  /** Connection for the append scripts; waits for Redis across restarts. */
  redis: Redis;
  keys: Keys;
}

export type SendOutcome = 'appended' | 'duplicate' | 'missing' | 'skipped' | 'expired';
export type ApprovalTimeoutOutcome = 'rejected' | 'not-pending' | 'resent' | 'missing';

/** The reason recorded when nobody approved an alert in time. */
export const APPROVAL_TIMED_OUT = 'approval timed out';
/** The name in the audit for steps Flashwire takes by itself. */
const SYSTEM_ACTOR = 'flashwire';

/**
 * Runs an alert's approval deadline: a still-pending alert is rejected.
 * An alert approved but never queued (the approving request died between
 * its two steps) gets its send job here, so approval cannot be lost.
 */
export async function runApprovalTimeout(deps: Pick<FanoutWorkerDeps, 'redis' | 'keys' | 'settings'>, alertId: string, requeue: (alertId: string, o: { priority: Priority; delayMs: number }) => Promise<void>): Promise<ApprovalTimeoutOutcome> {
  const { redis, keys, settings } = deps;
  const recordRetentionMs = settings.FLASHWIRE_RECORD_RETENTION_SECONDS * 1000;
  const changes = new AlertChanges(redis, keys, { maxEntries: settings.FLASHWIRE_FEED_MAX_ENTRIES, retentionMs: settings.FLASHWIRE_FEED_RETENTION_SECONDS * 1000, recordRetentionMs });
  const out = await changes.reject(alertId, APPROVAL_TIMED_OUT, SYSTEM_ACTOR);
  if (out.kind === 'missing') return 'missing';
  if (out.kind === 'done') return 'rejected';
  const rec = await new AlertStore(redis, keys, recordRetentionMs).get(alertId);
  if (rec && !rec.eventId && (rec.status === 'queued' || rec.status === 'scheduled') && rec.audit.some((a) => a.action === 'approved')) {
    await requeue(alertId, { priority: rec.priority, delayMs: rec.sendAt ? Date.parse(rec.sendAt) - Date.now() : 0 });
    return 'resent';
  }
  return 'not-pending';
}

/** Appends one alert's send to the feed; safe to run any number of times. */
export async function appendSend(deps: Pick<FanoutWorkerDeps, 'redis' | 'keys' | 'settings'>, alertId: string): Promise<{ outcome: SendOutcome; eventId?: string; status?: string }> {
  // A correction racing the send makes the script answer 'stale'; corrections
  // are rare and human-paced, so a few rounds always settle it.
  for (let round = 0; ; round++) {
    const res = await appendSendOnce(deps, alertId);
    if (res !== 'stale') return res;
    if (round >= 20) throw new Error(`alert ${alertId} kept changing while being sent`);
  }
}

async function appendSendOnce(deps: Pick<FanoutWorkerDeps, 'redis' | 'keys' | 'settings'>, alertId: string): Promise<{ outcome: SendOutcome; eventId?: string; status?: string } | 'stale'> {
  const { redis, keys, settings } = deps;
  const recordRetentionMs = settings.FLASHWIRE_RECORD_RETENTION_SECONDS * 1000;
  const rec = await new AlertStore(redis, keys, recordRetentionMs).get(alertId);
  if (!rec) return { outcome: 'missing' };
  if (rec.eventId) return { outcome: 'duplicate', eventId: rec.eventId };
  const sentAt = new Date().toISOString();
  const feed = new FeedScripts(redis, keys, { maxEntries: settings.FLASHWIRE_FEED_MAX_ENTRIES, retentionMs: settings.FLASHWIRE_FEED_RETENTION_SECONDS * 1000, recordRetentionMs });
  const res = await feed.appendSend(rec, toPayload({ ...rec, sentAt }), sentAt);
  return res.outcome === 'stale' ? 'stale' : res;
}

/** Why a record left unqueued past the grace period is marked failed. */
const ORPHAN_REASON = 'its send was never queued: the API process stopped after writing the record and before queuing it (no 202 was given)';

/**
 * How long a worker's claim to be running holds unless renewed, and how
 * often it is renewed: while one holds, the accept may send an alert itself
 * (accept-alert-13.lua); once every worker has stopped, alerts queue.
 */
const CLAIM_MS = 5000;
const CLAIM_RENEW_MS = 1000;

export class FanoutWorker {
  private worker: Worker<SendJobData> | undefined;
  private claimTimer: NodeJS.Timeout | undefined;
  private readonly id = randomUUID();
  private closing: Promise<void> | undefined;
  private queue: ReturnType<typeof createAlertQueue> | undefined;
  private sweepTimer: NodeJS.Timeout | undefined;
  private sweeping = false;
  private readonly store: AlertStore;

  constructor(private readonly deps: FanoutWorkerDeps) {
    this.store = new AlertStore(deps.redis, deps.keys, deps.settings.FLASHWIRE_RECORD_RETENTION_SECONDS * 1000);
  }

  async start(): Promise<void> {
    const { settings, log, bullConnection, keys } = this.deps;
    this.worker = new Worker<SendJobData>(QUEUE_NAME, (job) => this.process(job), {
      connection: bullConnection,
      prefix: keys.bullPrefix,
      concurrency: settings.FLASHWIRE_WORKER_CONCURRENCY,
      lockDuration: settings.FLASHWIRE_JOB_LOCK_MS,
      stalledInterval: settings.FLASHWIRE_STALLED_INTERVAL_MS,
      // A crashed worker must not turn an alert into a failure: the append
      // is idempotent, so recovering a stalled job is always safe.
      maxStalledCount: 100,
      // BullMQ drops and reopens its blocking connection when a BZPOPMIN is
      // unanswered a second past its timeout (a half-open link); a short
      // block keeps that within a few seconds (the default, 5 s, would take 6).
      drainDelay: 2,
    });
    this.worker.on('failed', (job, err) => {
      if (!job) return;
      const final = job.attemptsMade >= (job.opts.attempts ?? 1);
      log.warn({ alertId: job.data.alertId, attempt: job.attemptsMade, final, err: err.message }, final ? 'send failed for good' : 'send attempt failed; will retry');
      if (final && job.name !== APPROVAL_TIMEOUT_JOB) void this.failForGood(job.data.alertId, err.message);
    });
    this.worker.on('error', (err) => log.debug({ err: err.message }, 'worker connection error'));
    const graceMs = settings.FLASHWIRE_ORPHAN_GRACE_SECONDS * 1000;
    this.sweepTimer = setInterval(() => void this.sweepOrphans(), Math.max(500, Math.min(graceMs / 2, 30_000)));
    this.sweepTimer.unref();
    // Until BullMQ has checked the server on its connection, a stop would
    // leave that check to fail on a closed connection with nobody to hear it.
    await this.worker.waitUntilReady();
    await this.claim(CLAIM_MS);
    this.claimTimer = setInterval(() => void this.claim(CLAIM_MS).catch(() => undefined), CLAIM_RENEW_MS);
    this.claimTimer.unref();
  }

  /** Says this worker is running for `ms` more (0: has stopped); see CLAIM_MS. */
  private async claim(ms: number): Promise<void> {
    await runScript(this.deps.redis, 'workerClaim', [this.deps.keys.workers], [this.id, ms]);
  }

  /**
   * The last attempt failed. Only an alert still waiting to be sent becomes
   * `failed`: one already `sent` (the failure came after its append) or
   * `retracted` keeps its status, and readers' view of it stays true.
   */
  private async failForGood(alertId: string, reason: string): Promise<void> {
    const log = this.deps.log;
    try {
      const out = await this.store.markFailed(alertId, `send failed after every attempt: ${reason}`);
      if (out.kind === 'failed') {
        metrics.alertsFailed.inc();
        log.warn({ alertId, reason }, 'alert marked failed');
      } else if (out.kind === 'kept') {
        log.info({ alertId, status: out.status }, 'final send failure after the alert was settled; status kept');
      }
    } catch (err) {
      log.warn({ alertId, err: String(err) }, 'could not mark the alert failed');
    }
  }

  /**
   * Records whose API process died after writing them and before queuing
   * their send: no 202 was given, and nothing would ever send them. A retry
   * of the POST with the same Idempotency-Key within the grace period queues
   * and sends it; after it, the record is marked failed with the reason.
   */
  async sweepOrphans(now: number = Date.now()): Promise<number> {
    if (this.sweeping) return 0;
    this.sweeping = true;
    const { redis, keys, settings, log } = this.deps;
    let failed = 0;
    try {
      const ids = await redis.zrangebyscore(keys.unqueued, '-inf', now - settings.FLASHWIRE_ORPHAN_GRACE_SECONDS * 1000, 'LIMIT', 0, 100);
      for (const id of ids) {
        const res = await runScript(redis, 'sweepOrphan', [keys.unqueued, keys.alert(id), keys.sendJob(QUEUE_NAME, id)], [
          id,
          ORPHAN_REASON,
          new Date().toISOString(),
          settings.FLASHWIRE_RECORD_RETENTION_SECONDS * 1000,
        ]);
        if (res === 'failed') {
          failed++;
          metrics.alertsFailed.inc();
          log.warn({ alertId: id, reason: ORPHAN_REASON }, 'alert marked failed');
        }
      }
    } catch (err) {
      log.debug({ err: String(err) }, 'orphan sweep failed; will try again');
    } finally {
      this.sweeping = false;
    }
    return failed;
  }

  private async process(job: Job<SendJobData>): Promise<SendOutcome | ApprovalTimeoutOutcome> {
    if (job.name === APPROVAL_TIMEOUT_JOB) return this.approvalTimeout(job);
    return this.send(job);
  }

  private async approvalTimeout(job: Job<SendJobData>): Promise<ApprovalTimeoutOutcome> {
    const { alertId } = job.data;
    const res = await runApprovalTimeout(this.deps, alertId, async (id, o) => {
      this.queue ??= createAlertQueue(this.deps.bullConnection, this.deps.keys);
      await enqueueSend(this.queue, { alertId: id, priority: o.priority, delayMs: o.delayMs, attempts: this.deps.settings.FLASHWIRE_JOB_ATTEMPTS });
    });
    if (res === 'rejected') this.deps.log.info({ alertId }, 'alert rejected: approval timed out');
    if (res === 'resent') this.deps.log.warn({ alertId }, 'approved alert had no send job; queued it');
    return res;
  }

  private async send(job: Job<SendJobData>): Promise<SendOutcome> {
    const { alertId } = job.data;
    failpoint('worker-before-append');
    const res = await appendSend(this.deps, alertId);
    failpoint('worker-after-append');
    const log = this.deps.log;
    switch (res.outcome) {
      case 'appended':
        log.info({ alertId, eventId: res.eventId, jobId: job.id, attempt: job.attemptsMade + 1 }, 'alert entered the feed');
        if (res.eventId) observeSent(alertId, res.eventId, job.opts.delay, job.opts.priority, job.timestamp);
        break;
      case 'duplicate':
        log.info({ alertId, eventId: res.eventId }, 'alert already in the feed; nothing appended');
        break;
      case 'expired':
        log.info({ alertId }, 'alert expired before it could be sent');
        metrics.alertsExpired.inc();
        break;
      case 'skipped':
        log.info({ alertId, status: res.status }, 'alert not sent');
        break;
      case 'missing':
        log.warn({ alertId }, 'send job for an alert with no record');
        break;
    }
    return res.outcome;
  }

  /** Lets in-flight jobs finish, then closes; idempotent. */
  stop(): Promise<void> {
    this.closing ??= (async () => {
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      let withdrawn: Promise<unknown> = Promise.resolve();
      if (this.claimTimer) {
        clearInterval(this.claimTimer);
        // Withdrawn first (sent before the close begins): from now on alerts
        // wait in the queue for a worker. Its answer is awaited beside the
        // close, not before it: with Redis unresponsive it would otherwise add
        // its whole bound to every stop, and the claim lapses by itself anyway.
        withdrawn = within(this.claim(0), CLAIM_RENEW_MS).catch(() => undefined);
      }
      // A graceful close ends BullMQ's own blocking connection with QUIT,
      // which ioredis holds in its offline queue for as long as Redis is away:
      // for ever, once it is gone for good. Without Redis no job can finish
      // (its outcome is a write), and one cut short is taken again once its
      // lock lapses and appended once, so the close is forced then.
      if (this.worker) await this.worker.close(this.deps.bullConnection.status !== 'ready');
      if (this.queue) await this.queue.close();
      await withdrawn;
    })();
    return this.closing;
  }
}
