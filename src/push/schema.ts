/**
 * The Web Push wire types: what browsers post and what they get back. The
 * route validates with these and the OpenAPI document is derived from them.
 */
import { z } from 'zod';

const MAX_PUSH_TOPICS = 100;

export const pushSubscribeSchema = z.strictObject({
  subscription: z.strictObject({
    endpoint: z.string({ error: 'must be the PushSubscription endpoint URL' }),
    // PushSubscription.toJSON() carries it; push services ignore it and so do we.
    expirationTime: z.number().nullable().optional(),
    keys: z.strictObject({
      p256dh: z.string({ error: 'must be the base64url p256dh key from PushSubscription.toJSON()' }),
      auth: z.string({ error: 'must be the base64url auth secret from PushSubscription.toJSON()' }),
    }),
  }),
  topics: z
    .array(z.string(), { error: 'must be an array of topics' })
    .min(1, 'must list at least one topic ("*" for every public one)')
    .max(MAX_PUSH_TOPICS, `must list at most ${MAX_PUSH_TOPICS} topics`),
});

export const pushUnsubscribeSchema = z.strictObject({ endpoint: z.string({ error: 'must be the PushSubscription endpoint URL' }) });

export const pushKeySchema = z.object({ publicKey: z.string().describe('the VAPID public key: uncompressed P-256, base64url') });

export const pushSubscriptionResourceSchema = z.object({ id: z.string(), topics: z.array(z.string()) });
