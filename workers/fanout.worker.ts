/**
 * The fan-out worker: takes send jobs off the BullMQ queue (flash first) and
 * appends each alert to the feed exactly once. Gateways tail the feed and do
 * the socket writes, so one append reaches every reader on every gateway.
 */
import { Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Settings } from '../config/settings';
import { failpoint } from '../src/faults/failpoint';
import { metrics, observeSent } from '../src/metrics/metrics';
import { QUEUE_NAME, type SendJobData } from '../src/queue/alert-queue';
import type { Keys } from '../src/redis/keys';
import { runScript } from '../src/redis/scripts';
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
  const rec = await new AlertStore(redis, keys).get(alertId);
  if (!rec) return { outcome: 'missing' };
  if (rec.eventId) return { outcome: 'duplicate', eventId: rec.eventId };
  const sentAt = new Date().toISOString();
  const members = `"alert":${JSON.stringify(toPayload({ ...rec, sentAt }))}`;
  const expMs = rec.expiresAt ? String(Date.parse(rec.expiresAt)) : '';
  const res = (await runScript(redis, 'appendSend', [keys.alert(alertId), keys.feed], [
    members,
    rec.topics.join(','),
    expMs,
    sentAt,
    settings.FLASHWIRE_FEED_MAX_ENTRIES,
    settings.FLASHWIRE_FEED_RETENTION_SECONDS * 1000,
    alertId,
    rec.rev ?? '0',
  ])) as [SendOutcome | 'stale', string?];
  const [outcome, detail] = res;
  if (outcome === 'stale') return 'stale';
  if (outcome === 'appended' || outcome === 'duplicate') return { outcome, eventId: detail };
  if (outcome === 'skipped') return { outcome, status: detail };
  return { outcome };
}

export class FanoutWorker {
  private worker: Worker<SendJobData> | undefined;
  private closing: Promise<void> | undefined;

  constructor(private readonly deps: FanoutWorkerDeps) {}

  start(): void {
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
      if (final) metrics.alertsFailed.inc();
      if (final) void new AlertStore(this.deps.redis, keys).setStatus(job.data.alertId, 'failed').catch(() => undefined);
    });
    this.worker.on('error', (err) => log.debug({ err: err.message }, 'worker connection error'));
  }

  private async process(job: Job<SendJobData>): Promise<SendOutcome> {
    const { alertId } = job.data;
    failpoint('worker-before-append');
    const res = await appendSend(this.deps, alertId);
    failpoint('worker-after-append');
    const log = this.deps.log;
    switch (res.outcome) {
      case 'appended':
        log.info({ alertId, eventId: res.eventId, jobId: job.id, attempt: job.attemptsMade + 1 }, 'alert entered the feed');
        if (res.eventId) observeSent(alertId, res.eventId, job.opts.delay, job.opts.priority);
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
      if (this.worker) await this.worker.close();
    })();
    return this.closing;
  }
}
