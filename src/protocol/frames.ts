/**
 * The stream protocol: every frame on /v1/stream (and in SSE `data:`), one
 * schema each. Client frames are validated with these; server frames are
 * typed by them, and the AsyncAPI description is derived from them.
 */
import { z } from 'zod';
import { alertPayloadSchema } from '../alert/schema';
// Event ids are shared with the clients: the one module lives in the client package.
import { EVENT_ID_PATTERN, isEventId } from '../../clients/node/src/event-id';

const eventId = z.string().regex(EVENT_ID_PATTERN, 'must be a feed event id like 1714000000000-0').refine(isEventId, 'must be a feed event id within 64 bits, like 1714000000000-0');
const topicList = z.array(z.string(), { error: 'must be an array of topics' }).min(1, 'must list at least one topic');

// ---- client to server ----
export const subscribeFrameSchema = z.strictObject({ type: z.literal('subscribe'), topics: topicList });
export const unsubscribeFrameSchema = z.strictObject({ type: z.literal('unsubscribe'), topics: topicList });
export const pingFrameSchema = z.strictObject({ type: z.literal('ping') });
export const ackFrameSchema = z.strictObject({ type: z.literal('ack'), eventId });

export const clientFrameSchema = z.discriminatedUnion('type', [subscribeFrameSchema, unsubscribeFrameSchema, pingFrameSchema, ackFrameSchema]);
export type ClientFrame = z.infer<typeof clientFrameSchema>;
export const CLIENT_FRAME_TYPES = ['subscribe', 'unsubscribe', 'ping', 'ack'] as const;

// ---- server to client ----
export const welcomeFrameSchema = z.object({
  type: z.literal('welcome'),
  connectionId: z.string(),
  heartbeatMs: z.number().int(),
  topics: z.array(z.string()),
  resumed: z.boolean(),
});
export const alertFrameSchema = z.object({ type: z.literal('alert'), eventId, alert: alertPayloadSchema });
export const updateFrameSchema = z.object({ type: z.literal('update'), eventId, alert: alertPayloadSchema });
export const retractFrameSchema = z.object({ type: z.literal('retract'), eventId, id: z.string(), reason: z.string() });
export const subscribedFrameSchema = z.object({ type: z.literal('subscribed'), topics: z.array(z.string()) });
export const unsubscribedFrameSchema = z.object({ type: z.literal('unsubscribed'), topics: z.array(z.string()) });
export const resyncFrameSchema = z.object({ type: z.literal('resync'), reason: z.string() });
export const pongFrameSchema = z.object({ type: z.literal('pong') });

/** Stable error codes carried by `error` frames. */
export const STREAM_ERROR_CODES = ['invalid_frame', 'invalid_topic', 'forbidden_topic', 'too_many_topics'] as const;
export type StreamErrorCode = (typeof STREAM_ERROR_CODES)[number];
export const errorFrameSchema = z.object({ type: z.literal('error'), code: z.enum(STREAM_ERROR_CODES), message: z.string() });

export const serverFrameSchema = z.discriminatedUnion('type', [
  welcomeFrameSchema,
  alertFrameSchema,
  updateFrameSchema,
  retractFrameSchema,
  subscribedFrameSchema,
  unsubscribedFrameSchema,
  resyncFrameSchema,
  pongFrameSchema,
  errorFrameSchema,
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;
export type WelcomeFrame = z.infer<typeof welcomeFrameSchema>;
export type AlertFrame = z.infer<typeof alertFrameSchema>;
export type UpdateFrame = z.infer<typeof updateFrameSchema>;
export type RetractFrame = z.infer<typeof retractFrameSchema>;
export type ErrorFrame = z.infer<typeof errorFrameSchema>;
/** The frames that carry feed events (and an eventId). */
export type EventFrame = AlertFrame | UpdateFrame | RetractFrame;

/** WebSocket close codes (the contract's "Close codes"). */
export const CLOSE = {
  shuttingDown: 1001,
  policy: 1008,
  // Sent by ws itself when a frame exceeds FLASHWIRE_MAX_FRAME_BYTES (its maxPayload); listed for the protocol document.
  tooLarge: 1009,
  overloaded: 1013,
  badCredential: 4001,
  tooSlow: 4008,
} as const;
