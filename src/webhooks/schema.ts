/**
 * The bodies of /v1/webhooks: what the routes validate requests with and the
 * shape of what they answer (EndpointView, plus the secret where one is
 * shown). The OpenAPI document is built from these.
 */
import { z } from 'zod';
import { isValidSubscription } from '../alert/topics';
import { isEventId } from '../feed/event-id';
import type { Attempt, EndpointView } from './store';

export const webhookCreateSchema = z.strictObject({
  url: z
    .string({ error: 'must be a string' })
    .max(2048, 'must be at most 2,048 characters')
    .refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'must be an absolute http or https URL'),
  topics: z
    .array(z.string().refine(isValidSubscription, 'must be a topic (lowercase words separated by "/") or *'), { error: 'must be an array of topics' })
    .min(1, 'must list at least one topic')
    .max(20, 'must list at most 20 topics')
    .refine((t) => new Set(t).size === t.length, 'must not repeat a topic'),
  description: z.string({ error: 'must be a string' }).max(500, 'must be at most 500 characters').optional(),
});

export const webhookReplaySchema = z.strictObject({
  from: z.string({ error: 'must be an eventId' }).refine(isEventId, 'must be an eventId like 1714000000000-0'),
});

const webhookAttemptSchema = z.object({
  eventId: z.string(),
  at: z.string(),
  status: z.number().int().optional().describe('the HTTP status the endpoint answered'),
  error: z.string().optional().describe('why the attempt failed, when it did'),
  ms: z.number(),
});

/** An endpoint as the API shows it (never its secret). */
export const webhookViewSchema = z.object({
  id: z.string(),
  url: z.string(),
  topics: z.array(z.string()),
  description: z.string(),
  status: z.enum(['active', 'failing', 'disabled']),
  createdAt: z.string(),
  cursor: z.string().describe('the eventId of the last event handled'),
  lag: z.object({ events: z.number().int(), seconds: z.number().int() }).describe('events still to deliver, and the age of the oldest in seconds'),
});

/** GET /v1/webhooks/{id}: the view with the last attempts, newest first. */
export const webhookDetailSchema = webhookViewSchema.extend({ attempts: z.array(webhookAttemptSchema) });

/** POST /v1/webhooks/{id}/rotate-secret: the view and the new secret, shown once. */
export const webhookRotatedSchema = webhookViewSchema.extend({ secret: z.string() });

/** POST /v1/webhooks: the new endpoint and its secret, shown once. */
export const webhookCreatedSchema = webhookViewSchema.omit({ cursor: true, lag: true }).extend({ secret: z.string() });

export const webhookListSchema = z.object({ webhooks: z.array(webhookViewSchema) });

// The schemas and the store's types describe the same objects.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const viewsAgree: Same<z.infer<typeof webhookViewSchema>, Omit<EndpointView, 'attempts'>> = true;
const attemptsAgree: Same<Required<z.infer<typeof webhookAttemptSchema>>, Required<Attempt>> = true;
void viewsAgree;
void attemptsAgree;
