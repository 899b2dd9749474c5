/**
 * Alert records in Redis: one hash per alert holding its fields, status and
 * audit trail. The API writes them, the worker's Lua scripts move their
 * status, and everyone reads them through `get`.
 */
import type { Redis } from 'ioredis';
import type { AlertInput, AlertPayload, AlertResource, AlertStatus, AuditEntry, DeliveryReport, Priority } from '../alert/schema';
import type { Keys } from '../redis/keys';
import { runScript } from '../redis/scripts';
import { latencySummary, reachSummary } from './report';

/** An alert as stored: the resource without the report. */
export interface AlertRecord {
  id: string;
  headline: string;
  summary?: string;
  url?: string;
  topics: string[];
  priority: Priority;
  sendAt?: string;
  expiresAt?: string;
  status: AlertStatus;
  createdAt: string;
  sentAt?: string;
  updatedAt?: string;
  eventId?: string;
  publishedBy: string;
  retractReason?: string;
  retractedAt?: string;
  retractedBy?: string;
  rejectReason?: string;
  rejectedAt?: string;
  rejectedBy?: string;
  /**
   * Bumped by every correction or retraction. Writers read the record, build
   * what they append from it, and their script refuses to run if the
   * revision moved meanwhile, so nothing is sent from a stale copy.
   */
  rev?: string;
  audit: AuditEntry[];
}

/** The status an alert takes once it may go: scheduled while its embargo holds, else queued. */
export function releaseStatus(sendAt: string | undefined, now: number): 'scheduled' | 'queued' {
  return sendAt !== undefined && Date.parse(sendAt) > now ? 'scheduled' : 'queued';
}

/** A new record; `needsApproval` holds it as pending_approval until a second editor approves. */
export function newRecord(id: string, input: AlertInput, publishedBy: string, now: Date, needsApproval = false): AlertRecord {
  const rec: AlertRecord = {
    id,
    headline: input.headline,
    topics: input.topics,
    priority: input.priority,
    status: needsApproval ? 'pending_approval' : releaseStatus(input.sendAt, now.getTime()),
    createdAt: now.toISOString(),
    publishedBy,
    audit: [{ action: 'created', by: publishedBy, at: now.toISOString() }],
  };
  if (input.summary !== undefined) rec.summary = input.summary;
  if (input.url !== undefined) rec.url = input.url;
  if (input.sendAt !== undefined) rec.sendAt = new Date(input.sendAt).toISOString();
  if (input.expiresAt !== undefined) rec.expiresAt = new Date(input.expiresAt).toISOString();
  return rec;
}

/** The alert as it travels in `alert` and `update` frames. */
export function toPayload(rec: AlertRecord): AlertPayload {
  const p: AlertPayload = { id: rec.id, headline: rec.headline, topics: rec.topics, priority: rec.priority, createdAt: rec.createdAt };
  if (rec.summary !== undefined) p.summary = rec.summary;
  if (rec.url !== undefined) p.url = rec.url;
  if (rec.sentAt !== undefined) p.sentAt = rec.sentAt;
  if (rec.updatedAt !== undefined) p.updatedAt = rec.updatedAt;
  if (rec.expiresAt !== undefined) p.expiresAt = rec.expiresAt;
  return p;
}

const STRING_FIELDS = [
  'id', 'headline', 'summary', 'url', 'priority', 'sendAt', 'expiresAt', 'status', 'createdAt', 'sentAt', 'updatedAt', 'eventId', 'publishedBy',
  'retractReason', 'retractedAt', 'retractedBy', 'rejectReason', 'rejectedAt', 'rejectedBy', 'rev',
] as const;

/** The record as stored: field, value, field, value, ... */
export function recordFields(rec: AlertRecord): string[] {
  return Object.entries(toHash(rec)).flat();
}

function toHash(rec: AlertRecord): Record<string, string> {
  const h: Record<string, string> = { topics: JSON.stringify(rec.topics), audit: JSON.stringify(rec.audit) };
  for (const f of STRING_FIELDS) {
    const v = rec[f];
    if (v !== undefined) h[f] = v;
  }
  // Numbers for the scripts: a record is kept until RETENTION after the
  // later of its last change, its expiry and its embargo.
  if (rec.expiresAt !== undefined) h.expMs = String(Date.parse(rec.expiresAt));
  if (rec.sendAt !== undefined) h.sendMs = String(Date.parse(rec.sendAt));
  return h;
}

function fromHash(h: Record<string, string>): AlertRecord | undefined {
  if (!h.id || !h.status) return undefined;
  const rec: Record<string, unknown> = { topics: JSON.parse(h.topics ?? '[]'), audit: JSON.parse(h.audit ?? '[]') };
  // A summary or url cleared by a correction is stored as ''.
  for (const f of STRING_FIELDS) if (h[f] !== undefined && !(h[f] === '' && (f === 'summary' || f === 'url'))) rec[f] = h[f];
  return rec as unknown as AlertRecord;
}

/** Default for FLASHWIRE_RECORD_RETENTION_SECONDS, in ms. */
const DEFAULT_RECORD_RETENTION_MS = 30 * 24 * 3600 * 1000;

export type FailOutcome = { kind: 'failed' } | { kind: 'kept'; status: AlertStatus } | { kind: 'missing' };

export class AlertStore {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    /** Records (and their reports) are deleted this long after their last change or expiry. */
    readonly retentionMs: number = DEFAULT_RECORD_RETENTION_MS,
  ) {}

  /**
   * Writes a new record unless one with its id exists; true when written.
   * Ids are fresh ULIDs, but an idempotent retry re-uses its reserved id and
   * must neither fail nor overwrite what the first attempt made.
   */
  async create(rec: AlertRecord): Promise<boolean> {
    const fields = recordFields(rec);
    return (await runScript(this.redis, 'createAlert', [this.keys.alert(rec.id), this.keys.unqueued], [this.retentionMs, rec.id, Date.parse(rec.createdAt), ...fields])) === 1;
  }

  /**
   * The alert's send job is in the queue: it leaves the set of records the
   * orphan sweep watches. False when it was not there: the sweep settled it
   * first (or an earlier request with the same Idempotency-Key did).
   */
  async queued(id: string): Promise<boolean> {
    return (await this.redis.zrem(this.keys.unqueued, id)) === 1;
  }

  async get(id: string): Promise<AlertRecord | undefined> {
    return fromHash(await this.redis.hgetall(this.keys.alert(id)));
  }

  /** Marks a never-sent alert failed, with the reason in its audit trail; a sent, retracted or expired one keeps its status. */
  async markFailed(id: string, reason: string, at: Date = new Date()): Promise<FailOutcome> {
    const [kind, status] = (await runScript(this.redis, 'markFailed', [this.keys.alert(id)], [reason, at.toISOString(), this.retentionMs])) as [string, string?];
    if (kind === 'failed') return { kind };
    if (kind === 'kept') return { kind, status: status as AlertStatus };
    return { kind: 'missing' };
  }

  /** The record with its delivery report, as GET /v1/alerts/{id} returns it. */
  async resource(id: string): Promise<AlertResource | undefined> {
    const [[, h], [, r]] = (await this.redis.multi().hgetall(this.keys.alert(id)).hgetall(this.keys.report(id)).exec()) as [
      [unknown, Record<string, string>],
      [unknown, Record<string, string>],
    ];
    const rec = fromHash(h);
    return rec ? toResource(rec, r) : undefined;
  }
}

/**
 * The status as of `now`. An alert past its expiresAt is expired whether or
 * not anything has written that down yet: the worker marks it on a late
 * send attempt, the change script on a late correction, and reads say so at
 * once rather than waiting for either.
 */
export function effectiveStatus(rec: AlertRecord, now: number = Date.now()): AlertStatus {
  const live = rec.status === 'sent' || rec.status === 'queued' || rec.status === 'scheduled' || rec.status === 'pending_approval';
  if (live && rec.expiresAt !== undefined && Date.parse(rec.expiresAt) <= now) return 'expired';
  return rec.status;
}

export function toResource(rec: AlertRecord, reportHash: Record<string, string> = {}, now: number = Date.now()): AlertResource {
  const { sendAt, eventId, publishedBy } = rec;
  const res: AlertResource = { ...toPayload(rec), status: effectiveStatus(rec, now), publishedBy, audit: rec.audit, report: buildReport(rec, reportHash) };
  if (sendAt !== undefined) res.sendAt = sendAt;
  if (eventId !== undefined) res.eventId = eventId;
  if (rec.retractReason !== undefined) res.retraction = { reason: rec.retractReason, at: rec.retractedAt ?? '', by: rec.retractedBy ?? '' };
  if (rec.rejectReason !== undefined) res.rejection = { reason: rec.rejectReason, at: rec.rejectedAt ?? '', by: rec.rejectedBy ?? '' };
  return res;
}

function buildReport(rec: AlertRecord, r: Record<string, string>): DeliveryReport {
  return {
    acceptedAt: rec.createdAt,
    sentAt: rec.sentAt ?? null,
    deliveries: Number(r.deliveries ?? 0),
    feedToLastWriteMs: latencySummary(r),
    receipts: Number(r.receipts ?? 0),
    reach: reachSummary(r),
  };
}
