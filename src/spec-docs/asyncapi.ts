/**
 * The AsyncAPI 3 description of the stream protocol (WebSocket /v1/stream
 * and SSE /v1/events), served at /v1/asyncapi.json. Each message payload is
 * the zod schema in src/protocol/frames.ts that the gateway types its frames
 * with and validates client frames against.
 */
import type { z } from 'zod';
import {
  ackFrameSchema,
  alertFrameSchema,
  errorFrameSchema,
  pingFrameSchema,
  pongFrameSchema,
  resyncFrameSchema,
  retractFrameSchema,
  subscribeFrameSchema,
  subscribedFrameSchema,
  unsubscribeFrameSchema,
  unsubscribedFrameSchema,
  updateFrameSchema,
  welcomeFrameSchema,
  CLOSE,
} from '../protocol/frames';
import { jsonSchema, type JsonSchema } from './json-schema';

interface Frame {
  schema: z.ZodType;
  summary: string;
}

/** Server to client. */
export const SERVER_FRAMES: Record<string, Frame> = {
  welcome: { schema: welcomeFrameSchema, summary: 'first frame: topics granted, heartbeat interval, whether since was honoured' },
  alert: { schema: alertFrameSchema, summary: 'an alert for a subscribed topic' },
  update: { schema: updateFrameSchema, summary: 'a correction of an alert already sent' },
  retract: { schema: retractFrameSchema, summary: 'a sent alert withdrawn, with the reason' },
  subscribed: { schema: subscribedFrameSchema, summary: 'answer to subscribe' },
  unsubscribed: { schema: unsubscribedFrameSchema, summary: 'answer to unsubscribe' },
  resync: { schema: resyncFrameSchema, summary: 'events after since were trimmed: refetch over HTTP (/v1/feed)' },
  pong: { schema: pongFrameSchema, summary: 'answer to ping' },
  error: { schema: errorFrameSchema, summary: 'a bad client frame or a refused topic; the connection stays open' },
};

/** Client to server. */
export const CLIENT_FRAMES: Record<string, Frame> = {
  subscribe: { schema: subscribeFrameSchema, summary: 'add topics' },
  unsubscribe: { schema: unsubscribeFrameSchema, summary: 'remove topics' },
  ping: { schema: pingFrameSchema, summary: 'application-level ping' },
  ack: { schema: ackFrameSchema, summary: 'optional receipt, counted in the delivery report' },
};

const SSE_EVENTS = ['alert', 'update', 'retract', 'resync'] as const;

const query = {
  type: 'object',
  properties: {
    topics: { type: 'string', description: 'comma list of topics; none means * (every public topic)' },
    since: { type: 'string', description: 'resume after this eventId' },
    token: { type: 'string', description: 'a subscriber token (JWT) or subscribe key, for private/ topics' },
  },
};

export function buildAsyncApi(version = '0.1.0'): JsonSchema {
  const messages: Record<string, JsonSchema> = {};
  const refs = (names: readonly string[]) => Object.fromEntries(names.map((n) => [n, { $ref: `#/components/messages/${n}` }]));
  for (const [name, f] of Object.entries({ ...SERVER_FRAMES, ...CLIENT_FRAMES })) {
    messages[name] = { name, title: `${name} frame`, summary: f.summary, contentType: 'application/json', payload: jsonSchema(f.schema, 'output', 'draft-7') };
  }
  const opMessages = (channel: string, names: readonly string[]) => names.map((n) => ({ $ref: `#/channels/${channel}/messages/${n}` }));
  const closeCodes = Object.entries(CLOSE)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ');
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'Flashwire stream protocol',
      version,
      description: `Live delivery of breaking-news alerts. Frames are JSON text, one per message; eventIds only grow, and a client that reconnects with since (or Last-Event-ID) receives what it missed exactly once, or a resync frame. Close codes: ${closeCodes}.`,
      license: { name: 'MIT' },
    },
    defaultContentType: 'application/json',
    servers: {
      websocket: { host: 'localhost:8080', protocol: 'ws', description: 'the same port as the HTTP API; wss behind TLS' },
      sse: { host: 'localhost:8080', protocol: 'http', description: 'Server-Sent Events; each data: is the same JSON frame, id: is the eventId' },
    },
    channels: {
      stream: {
        address: '/v1/stream',
        title: 'WebSocket stream',
        servers: [{ $ref: '#/servers/websocket' }],
        messages: refs([...Object.keys(SERVER_FRAMES), ...Object.keys(CLIENT_FRAMES)]),
        bindings: { ws: { method: 'GET', query, bindingVersion: '0.1.0' } },
      },
      events: {
        address: '/v1/events',
        title: 'Server-Sent Events',
        description: 'event: alert|update|retract|resync; the Last-Event-ID header resumes.',
        servers: [{ $ref: '#/servers/sse' }],
        messages: refs(SSE_EVENTS),
      },
    },
    operations: {
      sendStreamFrames: { action: 'send', channel: { $ref: '#/channels/stream' }, summary: 'the gateway pushes frames to the reader', messages: opMessages('stream', Object.keys(SERVER_FRAMES)) },
      receiveClientFrames: { action: 'receive', channel: { $ref: '#/channels/stream' }, summary: 'frames a reader may send', messages: opMessages('stream', Object.keys(CLIENT_FRAMES)) },
      sendEvents: { action: 'send', channel: { $ref: '#/channels/events' }, summary: 'the gateway pushes feed events over SSE', messages: opMessages('events', SSE_EVENTS) },
    },
    components: { messages },
  };
}
