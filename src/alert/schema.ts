/**
 * The alert: the one schema from which the API validates input and every
 * part of Flashwire takes its TypeScript types. the contract's "The alert" is the
 * source of every rule here.
 */
import { z } from 'zod';
import { isPrivateTopic, TOPIC_PATTERN } from './topics';

/**
 * News-wire priority scale, highest first: the one list of priority names.
 * Settings, the queue's ranks, push urgency, metrics labels and the CLI take
 * it from here; the client package's `Priority` is checked against it.
 */
export const PRIORITIES = ['flash', 'bulletin', 'urgent', 'routine'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const DEFAULT_PRIORITY: Priority = 'urgent';
export const prioritySchema = z.enum(PRIORITIES, { error: `must be one of ${PRIORITIES.join(', ')}` });

export const STATUSES = ['scheduled', 'queued', 'sent', 'retracted', 'expired', 'failed', 'pending_approval', 'rejected'] as const;
export type AlertStatus = (typeof STATUSES)[number];

export const LIMITS = {
  headlineMax: 200,
  summaryMax: 2000,
  urlMax: 2048,
  topicsMax: 20,
  reasonMax: 500,
  clockSkewMs: 5_000,
  sendAtMaxAheadMs: 30 * 24 * 3600 * 1000,
} as const;

/** Length in Unicode code points, as the contract counts characters. */
export function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

// C0/C1 control characters other than tab and newline have no place in a
// push notification and are a classic way to break terminal and log output.
const CONTROL = /[\u0000-\u0008\u000B-\u001F\u007F-\u009F]/;
const CONTROL_OR_NEWLINE = /[\u0000-\u001F\u007F-\u009F]/;

export const headlineSchema = z
  .string({ error: 'must be a string' })
  .trim()
  .refine((s) => codePoints(s) >= 1, 'must not be empty')
  .refine((s) => codePoints(s) <= LIMITS.headlineMax, `must be at most ${LIMITS.headlineMax} characters`)
  .refine((s) => !CONTROL_OR_NEWLINE.test(s), 'must be plain text on one line (no control characters)');

export const summarySchema = z
  .string({ error: 'must be a string' })
  .refine((s) => codePoints(s) <= LIMITS.summaryMax, `must be at most ${LIMITS.summaryMax} characters`)
  .refine((s) => !CONTROL.test(s), 'must be plain text (no control characters)');

export const urlSchema = z
  .string({ error: 'must be a string' })
  .max(LIMITS.urlMax, `must be at most ${LIMITS.urlMax} characters`)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'must be an absolute http or https URL');

export const topicSchema = z
  .string({ error: 'must be a string' })
  .regex(TOPIC_PATTERN, 'must be lowercase words of a-z, 0-9 and single hyphens, separated by "/", at most 5 levels (e.g. europe/ukraine)');

export const topicsSchema = z
  .array(topicSchema, { error: 'must be an array of topics' })
  .min(1, 'must list at least one topic')
  .max(LIMITS.topicsMax, `must list at most ${LIMITS.topicsMax} topics`)
  .superRefine((topics, ctx) => {
    const seen = new Set<string>();
    topics.forEach((t, i) => {
      if (seen.has(t)) ctx.addIssue({ code: 'custom', path: [i], message: `duplicates topic "${t}"` });
      seen.add(t);
    });
    const priv = topics.filter(isPrivateTopic).length;
    if (priv > 0 && priv < topics.length) {
      ctx.addIssue({ code: 'custom', message: 'must be all public or all under private/, not a mix' });
    }
  });

const instant = z.iso.datetime({ offset: true, error: 'must be an ISO-8601 instant with a time zone, e.g. 2026-11-27T18:00:00Z' });

/** What a newsroom posts. Unknown fields are rejected, not ignored. */
export const alertInputSchema = z
  .strictObject({
    headline: headlineSchema,
    summary: summarySchema.optional(),
    url: urlSchema.optional(),
    topics: topicsSchema,
    priority: prioritySchema.default(DEFAULT_PRIORITY),
    sendAt: instant.optional(),
    expiresAt: instant.optional(),
  })
  .superRefine((a, ctx) => {
    // Time rules are checked at parse time against the server's clock.
    const now = Date.now();
    let start = now;
    if (a.sendAt !== undefined) {
      const at = Date.parse(a.sendAt);
      if (at < now - LIMITS.clockSkewMs) ctx.addIssue({ code: 'custom', path: ['sendAt'], message: 'must be in the future' });
      else if (at > now + LIMITS.sendAtMaxAheadMs) ctx.addIssue({ code: 'custom', path: ['sendAt'], message: 'must be at most 30 days ahead' });
      start = Math.max(at, now);
    }
    if (a.expiresAt !== undefined && Date.parse(a.expiresAt) <= start) {
      ctx.addIssue({ code: 'custom', path: ['expiresAt'], message: a.sendAt ? 'must be after sendAt' : 'must be in the future' });
    }
  });

export type AlertInput = z.output<typeof alertInputSchema>;

/** The fields a correction may change; `null` clears summary or url. */
export const CHANGEABLE_FIELDS = ['headline', 'summary', 'url'] as const;

/** A correction (PATCH): headline, summary or url only. */
export const alertPatchSchema = z
  .strictObject({
    headline: headlineSchema.optional(),
    summary: summarySchema.nullable().optional(),
    url: urlSchema.nullable().optional(),
  })
  .refine((p) => p.headline !== undefined || p.summary !== undefined || p.url !== undefined, 'must change at least one of headline, summary, url');
export type AlertPatch = z.output<typeof alertPatchSchema>;

/** Fields of an alert that exist but a correction cannot change (for a clear 422). */
export const UNCHANGEABLE_FIELDS: ReadonlySet<string> = new Set([
  'topics', 'priority', 'sendAt', 'expiresAt', 'id', 'status', 'createdAt', 'sentAt', 'updatedAt', 'eventId', 'publishedBy', 'retraction', 'audit', 'report',
]);
export const UNCHANGEABLE_MESSAGE = `cannot be changed; changeable: ${CHANGEABLE_FIELDS.join(', ')}`;

export const retractSchema = z.strictObject({
  reason: z
    .string({ error: 'must be a string' })
    .trim()
    .refine((s) => codePoints(s) >= 1, 'must not be empty')
    .refine((s) => codePoints(s) <= LIMITS.reasonMax, `must be at most ${LIMITS.reasonMax} characters`),
});

/** POST /v1/alerts/{id}/reject: the same shape as a retraction, `{ "reason" }`. */
export const rejectSchema = retractSchema;

/** The alert as readers receive it inside `alert` and `update` frames. */
export const alertPayloadSchema = z.object({
  id: z.string(),
  headline: z.string(),
  summary: z.string().optional(),
  url: z.string().optional(),
  topics: z.array(z.string()),
  priority: prioritySchema,
  createdAt: z.string(),
  sentAt: z.string().optional(),
  updatedAt: z.string().optional(),
  expiresAt: z.string().optional(),
});
export type AlertPayload = z.infer<typeof alertPayloadSchema>;

const latency = z.object({ p50: z.number(), p90: z.number(), p99: z.number(), max: z.number() });

/**
 * How fast the alert reached the readers connected when it was sent: ms from
 * the feed append until 50/90/99% of them had it written to their socket,
 * over every gateway. Null until a gateway reported; the times are null when
 * nobody was connected.
 */
export const reachSchema = z.object({
  readersAtSend: z.number().int(),
  p50Ms: z.number().nullable(),
  p90Ms: z.number().nullable(),
  p99Ms: z.number().nullable(),
});
export type Reach = z.infer<typeof reachSchema>;

/** The delivery report, summed over every gateway. */
export const reportSchema = z.object({
  acceptedAt: z.string(),
  sentAt: z.string().nullable(),
  deliveries: z.number().int(),
  feedToLastWriteMs: latency.nullable(),
  receipts: z.number().int(),
  reach: reachSchema.nullable(),
});
export type DeliveryReport = z.infer<typeof reportSchema>;

export const AUDIT_ACTIONS = ['created', 'corrected', 'retracted', 'approved', 'rejected', 'failed'] as const;
export type AuditAction = (typeof AUDIT_ACTIONS)[number];

/** One step in an alert's editorial history: who did what, and when. */
export const auditEntrySchema = z.object({
  action: z.enum(AUDIT_ACTIONS),
  /** The API key's name ('flashwire' for the service's own steps). */
  by: z.string(),
  at: z.string(),
  /** The fields a correction changed. */
  fields: z.array(z.string()).optional(),
  /** A retraction's or rejection's reason, or why the alert failed. */
  reason: z.string().optional(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** The alert as the API returns it. */
export const alertResourceSchema = alertPayloadSchema.extend({
  status: z.enum(STATUSES),
  sendAt: z.string().optional(),
  eventId: z.string().optional(),
  publishedBy: z.string(),
  /** Set once retracted: why, as readers were told in the retract event. */
  retraction: z.object({ reason: z.string(), at: z.string(), by: z.string() }).optional(),
  /** Set once rejected: by a second editor, or `approval timed out`. */
  rejection: z.object({ reason: z.string(), at: z.string(), by: z.string() }).optional(),
  audit: z.array(auditEntrySchema),
  report: reportSchema,
});
export type AlertResource = z.infer<typeof alertResourceSchema>;
