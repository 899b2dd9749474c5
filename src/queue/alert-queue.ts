/**
 * The hand-off between the API and the fan-out worker: a BullMQ queue whose
 * job id is the alert id (so a retried enqueue is a no-op) and whose priority
 * follows the news-wire scale, flash first.
 */
import { Job, Queue, type IRedisTransaction, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import { PRIORITIES, type Priority } from '../alert/schema';
import type { Keys } from '../redis/keys';

export const QUEUE_NAME = 'alerts';

/** BullMQ runs lower numbers first (and 0 means none): flash is 1, the scale's order gives the rest. */
export const PRIORITY_RANK = Object.fromEntries(PRIORITIES.map((p, i) => [p, i + 1])) as Record<Priority, number>;

/** The priority a rank stands for; undefined for none or one out of range. */
export function priorityOfRank(rank: number | undefined): Priority | undefined {
  return rank === undefined ? undefined : PRIORITIES[rank - 1];
}

export interface SendJobData {
  alertId: string;
}

export function createAlertQueue(connection: Redis, keys: Keys): Queue<SendJobData> {
  const queue = new Queue<SendJobData>(QUEUE_NAME, { connection, prefix: keys.bullPrefix });
  // BullMQ re-emits its connection's errors; unheard, an 'error' event throws
  // in the process. A lost link is answered 503 per request and reconnects by
  // itself, and the connection logs why, so there is nothing more to do here.
  queue.on('error', () => undefined);
  return queue;
}

export interface EnqueueOptions {
  alertId: string;
  priority: Priority;
  /** Delay until an embargo lifts, in ms. */
  delayMs?: number;
  attempts: number;
}

function sendJobOptions(o: EnqueueOptions): JobsOptions {
  return {
    jobId: o.alertId,
    priority: PRIORITY_RANK[o.priority],
    delay: o.delayMs && o.delayMs > 0 ? o.delayMs : undefined,
    attempts: o.attempts,
    backoff: { type: 'exponential', delay: 250 },
    // Completed jobs are only needed as a dedupe record for a while; the
    // feed itself is the durable history.
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export async function enqueueSend(queue: Queue<SendJobData>, o: EnqueueOptions): Promise<void> {
  await queue.add(SEND_JOB, { alertId: o.alertId }, sendJobOptions(o));
}

/**
 * Queues BullMQ's own add of the send job on a MULTI made from the queue's
 * connection, as BullMQ's FlowProducer does, so it commits with whatever
 * else the MULTI holds. Answers the job's id.
 */
export async function enqueueSendIn(multi: IRedisTransaction, queue: Queue<SendJobData>, o: EnqueueOptions): Promise<string> {
  return addIn(multi, queue, SEND_JOB, o.alertId, sendJobOptions(o));
}

async function addIn(multi: IRedisTransaction, queue: Queue<SendJobData>, name: string, alertId: string, opts: JobsOptions): Promise<string> {
  const job = new Job<SendJobData>(queue, name, { alertId }, opts, opts.jobId);
  // On a MULTI this only queues the command; its outcome comes with exec().
  await job.addJob(multi);
  return opts.jobId!;
}

const SEND_JOB = 'send';
/**
 * The job that rejects an alert nobody approved in time. It rides the same
 * durable queue as sends (delayed by FLASHWIRE_APPROVAL_TIMEOUT_SECONDS), so
 * the deadline survives restarts of every process; when it runs it only
 * rejects an alert that is still pending.
 */
export const APPROVAL_TIMEOUT_JOB = 'approval-timeout';

const APPROVAL_SUFFIX = '-approval';

/** The approval deadline's job id: one per alert, so a retried POST re-adds nothing. */
export function approvalJobId(alertId: string): string {
  return `${alertId}${APPROVAL_SUFFIX}`;
}

interface ApprovalTimeoutOptions {
  alertId: string;
  delayMs: number;
  attempts: number;
}

function approvalJobOptions(o: ApprovalTimeoutOptions): JobsOptions {
  return {
    jobId: approvalJobId(o.alertId),
    delay: Math.max(1, o.delayMs),
    attempts: o.attempts,
    backoff: { type: 'exponential', delay: 250 },
    removeOnComplete: { age: 24 * 3600, count: 100_000 },
    removeOnFail: { age: 7 * 24 * 3600 },
  };
}

export async function enqueueApprovalTimeout(queue: Queue<SendJobData>, o: ApprovalTimeoutOptions): Promise<void> {
  await queue.add(APPROVAL_TIMEOUT_JOB, { alertId: o.alertId }, approvalJobOptions(o));
}

/** As enqueueSendIn, for the approval deadline. */
export async function enqueueApprovalTimeoutIn(multi: IRedisTransaction, queue: Queue<SendJobData>, o: ApprovalTimeoutOptions): Promise<string> {
  return addIn(multi, queue, APPROVAL_TIMEOUT_JOB, o.alertId, approvalJobOptions(o));
}
