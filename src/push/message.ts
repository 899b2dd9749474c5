/**
 * What one feed event becomes as a push: the payload (the stream frame,
 * trimmed to fit), and the RFC 8030 headers that tell a push service how
 * to treat it. Pure functions, computed once per event and shared by every
 * subscription it goes to.
 */
import { createHash } from 'node:crypto';
import type { Priority } from '../alert/schema';
import { framesWithoutAlertMembers, priorityInFrame } from '../feed/frame-text';
import type { FeedEvent } from '../feed/feed-event';

/** The most a push payload may be (the contract; push services take about 4 KB, less the encryption's overhead). */
export const MAX_PAYLOAD_BYTES = 3000;
/** TTL when an alert has no expiresAt: a day, after which breaking news is not breaking. */
const DEFAULT_TTL_S = 86_400;

export type Urgency = 'very-low' | 'low' | 'normal' | 'high';

/** RFC 8030 section 5.3: flash and bulletin wake the device, routine waits for a convenient moment. */
const URGENCY: Record<Priority, Urgency> = { flash: 'high', bulletin: 'high', urgent: 'normal', routine: 'low' };

export function urgencyOf(priority: string | undefined): Urgency {
  // The priority comes from a frame's text: only the scale's own names count.
  return priority !== undefined && Object.hasOwn(URGENCY, priority) ? URGENCY[priority as Priority] : 'normal';
}

/** Seconds left until expiresAt (ms since the epoch; 0 for none), else a day. */
export function ttlSeconds(expiresAt: number, now: number): number {
  if (!expiresAt) return DEFAULT_TTL_S;
  return Math.max(0, Math.floor((expiresAt - now) / 1000));
}

/**
 * The RFC 8030 `Topic` for an alert: at most 32 base64url characters, the
 * same for the alert, its corrections and its retraction, so a later one
 * replaces an earlier one the push service still holds. A ULID (26
 * characters of 0-9A-Z) is already that; anything else is hashed.
 */
export function pushTopic(alertId: string): string {
  if (/^[A-Za-z0-9_-]{1,32}$/.test(alertId)) return alertId;
  return createHash('sha256').update(alertId).digest('base64url').slice(0, 32);
}

/**
 * The payload: the stream frame as it is, or without `summary` (then
 * without `url`) when it would pass MAX_PAYLOAD_BYTES; undefined if even
 * that does not fit (an alert with very many long topics).
 */
export function pushPayload(frame: string): string | undefined {
  if (Buffer.byteLength(frame) <= MAX_PAYLOAD_BYTES) return frame;
  for (const out of framesWithoutAlertMembers(frame, ['summary', 'url'])) {
    if (Buffer.byteLength(out) <= MAX_PAYLOAD_BYTES) return out;
  }
  return undefined;
}

/** The alert's priority as the frame carries it (alert and update frames; a retract has none). */
export function framePriority(e: FeedEvent): string | undefined {
  if (e.type === 'retract') return undefined;
  return priorityInFrame(e.frame);
}

/** Everything a push of this event needs but the subscription's own keys. */
export interface PreparedPush {
  eventId: string;
  alertId: string;
  payload: string;
  headers: { TTL: string; Urgency: Urgency; Topic: string };
  /** When retrying stops being worth it (ms): the TTL's end. */
  deadline: number;
}

export function preparePush(e: FeedEvent, priority: string | undefined, now: number): PreparedPush | undefined {
  const payload = pushPayload(e.frame);
  if (payload === undefined) return undefined;
  // Count the TTL from when the event entered the feed, so a retry or a
  // catch-up after an outage never outlives the alert.
  const enteredAt = Number(e.eventId.slice(0, e.eventId.indexOf('-')));
  const ttlFromEntry = e.expiresAt ? ttlSeconds(e.expiresAt, now) : Math.max(0, DEFAULT_TTL_S - Math.floor(Math.max(0, now - enteredAt) / 1000));
  return {
    eventId: e.eventId,
    alertId: e.alertId,
    payload,
    headers: { TTL: String(ttlFromEntry), Urgency: urgencyOf(priority), Topic: pushTopic(e.alertId) },
    deadline: now + ttlFromEntry * 1000,
  };
}
