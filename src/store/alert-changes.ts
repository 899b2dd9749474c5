/**
 * Corrections and retractions (and approval decisions). Each plans the
 * record's change and the event readers get, and hands both to the feed's
 * append-change, which checks the alert's state, appends the `update` or
 * `retract` event when the alert was sent, and changes the record, in one
 * atomic step.
 *
 * They go straight from the API to the feed rather than through the queue:
 * the editor is waiting for the answer (409 if the alert is retracted, 200
 * with the corrected alert), the state check must sit in the same atomic
 * step as the append for "once and only once", and the feed's order is then
 * simply the order in which those steps ran — always after the alert's own
 * `alert` event, because a change is only appended to an alert that is
 * `sent`. A queue would add a hop, a second dedupe record, and a way for a
 * change to overtake the send it corrects.
 */
import type { Redis } from 'ioredis';
import type { AlertPatch, AlertStatus } from '../alert/schema';
import { alertEvent, retractEvent, type EventDraft } from '../feed/frame-text';
import { FeedScripts, type FeedLimits } from '../feed/feed-scripts';
import type { Keys } from '../redis/keys';
import { AlertStore, effectiveStatus, releaseStatus, toPayload, type AlertRecord } from './alert-store';

/** The feed's limits; the record's retention defaults to the store's. */
export type ChangeLimits = Omit<FeedLimits, 'recordRetentionMs'> & Partial<Pick<FeedLimits, 'recordRetentionMs'>>;

export type ChangeOutcome =
  | { kind: 'done'; record: AlertRecord; eventId?: string }
  | { kind: 'missing' }
  | { kind: 'conflict'; status: AlertStatus };

const PATCHABLE = ['headline', 'summary', 'url'] as const;
/** Rounds of read-then-apply before giving up; each lost round means the alert changed. */
const MAX_ROUNDS = 20;

/** The record's new fields, the event readers get (none before the send), and the record as it will be. */
type Plan = { fields: Record<string, string>; event: EventDraft | undefined; next: AlertRecord } | ChangeOutcome;

export class AlertChanges {
  private readonly store: AlertStore;
  private readonly feed: FeedScripts;

  constructor(redis: Redis, keys: Keys, limits: ChangeLimits) {
    this.store = new AlertStore(redis, keys, limits.recordRetentionMs);
    this.feed = new FeedScripts(redis, keys, { maxEntries: limits.maxEntries, retentionMs: limits.retentionMs, recordRetentionMs: this.store.retentionMs });
  }

  /** Corrects headline, summary or url; a sent alert gets an `update` event. */
  correct(id: string, patch: AlertPatch, by: string): Promise<ChangeOutcome> {
    return this.apply(id, (rec) => {
      const status = effectiveStatus(rec);
      if (status === 'retracted' || status === 'expired' || status === 'rejected') return { kind: 'conflict', status };
      // `null` clears a field: stored as '' (the script only sets fields), read back as absent.
      const wanted = (f: (typeof PATCHABLE)[number]) => (patch[f] === null ? undefined : patch[f]);
      const changed = PATCHABLE.filter((f) => patch[f] !== undefined && wanted(f) !== rec[f]);
      // Nothing new (a retried PATCH, say): nothing to tell readers.
      if (changed.length === 0) return { kind: 'done', record: rec };
      const at = new Date().toISOString();
      const next: AlertRecord = { ...rec, audit: [...rec.audit, { action: 'corrected', by, at, fields: [...changed] }] };
      const fields: Record<string, string> = {};
      for (const f of changed) {
        const v = wanted(f);
        if (v === undefined && f !== 'headline') delete next[f];
        else next[f] = v as string;
        fields[f] = v ?? '';
      }
      // A correction before the send is just the alert readers will get.
      const sent = rec.status === 'sent';
      if (sent) fields.updatedAt = next.updatedAt = at;
      fields.audit = JSON.stringify(next.audit);
      return { fields, event: sent ? alertEvent('update', toPayload(next)) : undefined, next };
    });
  }

  /** Retracts: a sent alert gets a `retract` event; an unsent one is never sent. */
  retract(id: string, reason: string, by: string): Promise<ChangeOutcome> {
    return this.apply(id, (rec) => {
      const status = effectiveStatus(rec);
      if (status === 'retracted' || status === 'expired' || status === 'rejected') return { kind: 'conflict', status };
      const at = new Date().toISOString();
      const next: AlertRecord = {
        ...rec,
        status: 'retracted',
        retractReason: reason,
        retractedAt: at,
        retractedBy: by,
        audit: [...rec.audit, { action: 'retracted', by, at, reason }],
      };
      const fields = { status: 'retracted', retractReason: reason, retractedAt: at, retractedBy: by, audit: JSON.stringify(next.audit) };
      const sent = rec.status === 'sent';
      return { fields, event: sent ? retractEvent(id, reason) : undefined, next };
    });
  }

  /**
   * A second editor's approval: pending_approval becomes queued (or
   * scheduled while its embargo holds). Anything else is a conflict. The
   * caller then queues the send.
   */
  approve(id: string, by: string): Promise<ChangeOutcome> {
    return this.apply(id, (rec) => {
      const status = effectiveStatus(rec);
      if (status !== 'pending_approval') return { kind: 'conflict', status };
      const at = new Date().toISOString();
      const released = releaseStatus(rec.sendAt, Date.now());
      const next: AlertRecord = { ...rec, status: released, audit: [...rec.audit, { action: 'approved', by, at }] };
      return { fields: { status: released, audit: JSON.stringify(next.audit) }, event: undefined, next };
    });
  }

  /** Rejects an alert waiting for approval (by an editor, or on timeout): it is never sent. */
  reject(id: string, reason: string, by: string): Promise<ChangeOutcome> {
    return this.apply(id, (rec) => {
      const status = effectiveStatus(rec);
      if (status !== 'pending_approval') return { kind: 'conflict', status };
      const at = new Date().toISOString();
      const next: AlertRecord = {
        ...rec,
        status: 'rejected',
        rejectReason: reason,
        rejectedAt: at,
        rejectedBy: by,
        audit: [...rec.audit, { action: 'rejected', by, at, reason }],
      };
      const fields = { status: 'rejected', rejectReason: reason, rejectedAt: at, rejectedBy: by, audit: JSON.stringify(next.audit) };
      return { fields, event: undefined, next };
    });
  }

  private async apply(id: string, plan: (rec: AlertRecord) => Plan): Promise<ChangeOutcome> {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const rec = await this.store.get(id);
      if (!rec) return { kind: 'missing' };
      const p = plan(rec);
      if ('kind' in p) return p;
      const res = await this.feed.appendChange(rec, p.event, p.fields);
      const next: AlertRecord = { ...p.next, rev: String(Number(rec.rev ?? '0') + 1) };
      switch (res.outcome) {
        case 'appended':
          return { kind: 'done', record: next, eventId: res.eventId };
        case 'changed':
          return { kind: 'done', record: next };
        case 'missing':
          return { kind: 'missing' };
        case 'expired':
          return { kind: 'conflict', status: 'expired' };
        case 'stale':
          continue;
      }
    }
    throw new Error(`alert ${id} kept changing; try again`);
  }
}
