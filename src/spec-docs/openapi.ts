/**
 * The OpenAPI 3.1 description of the HTTP API, served at /v1/openapi.json.
 * Every body schema comes from the zod schema the route validates with or
 * answers by (src/alert/schema.ts, src/protocol/frames.ts, src/api/problems.ts,
 * src/webhooks/schema.ts).
 */
import { z } from 'zod';
import { alertInputSchema, alertPatchSchema, alertResourceSchema, LIMITS, rejectSchema, retractSchema, STATUSES } from '../alert/schema';
import { audienceCountSchema, dryRunSchema } from '../store/audience';
import { problemSchema } from '../http/problem';
import { pushKeySchema, pushSubscribeSchema, pushSubscriptionResourceSchema, pushUnsubscribeSchema } from '../push/schema';
import { alertFrameSchema, retractFrameSchema, updateFrameSchema } from '../protocol/frames';
import { webhookCreatedSchema, webhookCreateSchema, webhookDetailSchema, webhookListSchema, webhookReplaySchema, webhookRotatedSchema, webhookViewSchema } from '../webhooks/schema';
import { jsonSchema, type JsonSchema } from './json-schema';

/** GET /v1/alerts' answer: newest first, `next` the cursor for the page after. */
const alertPageSchema = z.object({
  alerts: z.array(alertResourceSchema),
  next: z.string().nullable(),
});

/** GET /v1/feed's answer (the contract's "HTTP API"). */
export const feedPageSchema = z.object({
  events: z.array(z.discriminatedUnion('type', [alertFrameSchema, updateFrameSchema, retractFrameSchema])),
  next: z.string().nullable(),
});

// Code-point limits live in refinements, which JSON Schema cannot carry;
// maxLength counts code points too, so the same numbers apply.
function withTextLimits(schema: JsonSchema, limits: Record<string, { min?: number; max: number }>): JsonSchema {
  const props = schema.properties as Record<string, JsonSchema>;
  for (const [name, { min, max }] of Object.entries(limits)) {
    const p = props[name];
    if (!p) continue;
    if (min !== undefined) p.minLength = min;
    p.maxLength = max;
  }
  return schema;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });
const problem = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });
const idParam = { name: 'id', in: 'path', required: true, schema: { type: 'string' }, description: 'the alert id (a ULID)' };
const publish = [{ bearer: [] }];
const admin = [{ bearer: [] }];
const unavailable = { '503': problem('Redis cannot be reached; nothing was changed, retry shortly'), '500': problem('an unexpected error (logged)') };
const bodyErrors = {
  '400': problem('the body is empty or not valid JSON'),
  '401': problem('no or unknown key (a subscriber token is not an API key)'),
  '403': problem('the key lacks the publish scope'),
  '413': problem('body larger than FLASHWIRE_BODY_LIMIT_BYTES (64 KiB by default)'),
  '415': problem('body is not JSON'),
  '422': problem('validation failed: `errors` names every bad field as { path, message }'),
  '429': problem('write rate of the key exceeded (posts, corrections and retractions together); see Retry-After'),
  ...unavailable,
  '503': problem('Redis cannot be reached, or is out of memory; nothing was accepted'),
};
const publishErrors = { ...bodyErrors, '429': problem('publish rate exceeded; see Retry-After') };
// /v1/webhooks: an admin key on every route, no rate limit.
const webhookIdParam = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^wh_[0-9A-HJKMNP-TV-Z]{26}$' }, description: 'the webhook endpoint id (wh_ and a ULID)' };
const adminErrors = {
  '401': problem('no or unknown key (a subscriber token is not an API key)'),
  '403': problem('the key lacks the admin scope'),
  ...unavailable,
};
const webhookNotFound = { '404': problem('no such webhook endpoint') };
const webhookBodyErrors = {
  '400': problem('the body is empty or not valid JSON'),
  '413': problem('body larger than FLASHWIRE_BODY_LIMIT_BYTES (64 KiB by default)'),
  '415': problem('body is not JSON'),
};
const noStore = { 'Cache-Control': { schema: { type: 'string', enum: ['no-store'] } } };
const webhookState = (summary: string, operationId: string, description: string) => ({
  tags: ['webhooks'],
  operationId,
  summary,
  description,
  security: admin,
  responses: { '200': { description: 'the endpoint', content: json('Webhook') }, ...webhookNotFound, ...adminErrors },
});

export function buildOpenApi(version = '0.1.0'): JsonSchema {
  const text = { headline: { min: 1, max: LIMITS.headlineMax }, summary: { max: LIMITS.summaryMax } };
  return {
    openapi: '3.1.0',
    info: {
      title: 'Flashwire HTTP API',
      version,
      summary: 'Breaking-news push: newsroom ingest, alert status and delivery reports, the feed.',
      description:
        'Every error is an RFC 9457 problem document. Live delivery is over WebSocket (/v1/stream) and Server-Sent Events (/v1/events), described in the AsyncAPI document at /v1/asyncapi.json.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'alerts', description: 'post, list, read, correct and retract alerts' },
      { name: 'feed', description: 'the ordered log of events, for polling and catching up' },
      { name: 'push', description: 'Web Push: the VAPID key and browser subscriptions' },
      { name: 'webhooks', description: 'webhook endpoints (admin key): each receives the events of its topics as signed POSTs, in feed order, at least once' },
      { name: 'operations', description: 'health, readiness and metrics' },
    ],
    paths: {
      '/v1/alerts': {
        post: {
          tags: ['alerts'],
          operationId: 'postAlert',
          summary: 'Accept an alert (durable in Redis before the 202)',
          security: publish,
          parameters: [
            { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 255 }, description: 'a repeated POST with the same key and body within 24 h returns the first answer' },
            { name: 'dryRun', in: 'query', required: false, schema: { type: 'boolean' }, description: 'true: validate and count the audience, create nothing (200), not counted against the publish rate' },
          ],
          requestBody: { required: true, content: json('AlertInput') },
          responses: {
            '200': { description: 'dry run: the alert is valid; who it would reach now', content: json('DryRun') },
            '202': {
              description: 'accepted; the body is the alert',
              headers: {
                Location: { schema: { type: 'string' }, description: '/v1/alerts/{id}' },
                'Idempotent-Replayed': { schema: { type: 'string', enum: ['true'] }, description: 'present on a replayed answer' },
              },
              content: json('Alert'),
            },
            '409': problem('a retry of a request whose alert was marked failed: its send was never queued'),
            ...publishErrors,
          },
        },
        get: {
          tags: ['alerts'],
          operationId: 'listAlerts',
          summary: 'Alerts newest first, with a cursor',
          description: 'Any API key. Private alerts are listed exactly where GET /v1/alerts/{id} would show them to the caller.',
          security: [{ bearer: [] }],
          parameters: [
            { name: 'status', in: 'query', schema: { type: 'string', enum: [...STATUSES] }, description: 'only alerts with this status' },
            { name: 'topic', in: 'query', schema: { type: 'string' }, description: 'only alerts a subscription to this topic receives (`*`: every public topic)' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100, default: 20 } },
            { name: 'after', in: 'query', schema: { type: 'string' }, description: 'an alert id: the `next` of the previous page' },
          ],
          responses: {
            '200': { description: 'a page of alerts', content: json('AlertPage') },
            '401': problem('no API key, an unknown one, or a subscriber token'),
            '422': problem('bad status, topic, limit or cursor'),
            ...unavailable,
          },
        },
      },
      '/v1/alerts/{id}': {
        parameters: [idParam],
        get: {
          tags: ['alerts'],
          operationId: 'getAlert',
          summary: 'The alert with its status and delivery report',
          description: 'Public topics need no credential; private/ ones need a subscriber token or a subscribe key, else 404.',
          security: [{}, { bearer: [] }],
          responses: {
            '200': { description: 'the alert', content: json('Alert') },
            '401': problem('a credential was sent but is unknown, revoked or expired'),
            '404': problem('no such alert, or not readable by the caller'),
            ...unavailable,
          },
        },
        patch: {
          tags: ['alerts'],
          operationId: 'correctAlert',
          summary: 'Correct headline, summary or url; a sent alert emits an `update` event',
          description: '`null` clears summary or url. Any other field of the alert is a 422: it cannot be changed.',
          security: publish,
          requestBody: { required: true, content: json('AlertPatch') },
          responses: { '200': { description: 'the corrected alert', content: json('Alert') }, '404': problem('no such alert'), '409': problem('the alert is retracted or expired'), ...bodyErrors },
        },
      },
      '/v1/alerts/{id}/retract': {
        parameters: [idParam],
        post: {
          tags: ['alerts'],
          operationId: 'retractAlert',
          summary: 'Withdraw an alert; a sent one emits a `retract` event, a scheduled one is never sent',
          security: publish,
          requestBody: { required: true, content: json('RetractRequest') },
          responses: { '200': { description: 'the retracted alert', content: json('Alert') }, '404': problem('no such alert'), '409': problem('already retracted'), ...bodyErrors },
        },
      },
      '/v1/alerts/{id}/approve': {
        parameters: [idParam],
        post: {
          tags: ['alerts'],
          operationId: 'approveAlert',
          summary: 'A second editor approves an alert waiting for approval: it is queued (or scheduled until its sendAt)',
          security: publish,
          responses: {
            '200': { description: 'the approved alert', content: json('Alert') },
            '401': problem('no or unknown key'),
            '403': problem('the key lacks the approve scope, or it is the key that published the alert'),
            '404': problem('no such alert'),
            '409': problem('the alert is not pending_approval'),
          },
        },
      },
      '/v1/alerts/{id}/reject': {
        parameters: [idParam],
        post: {
          tags: ['alerts'],
          operationId: 'rejectAlert',
          summary: 'Reject an alert waiting for approval: it is never sent',
          security: publish,
          requestBody: { required: true, content: json('RejectRequest') },
          responses: { '200': { description: 'the rejected alert', content: json('Alert') }, '404': problem('no such alert'), '409': problem('the alert is not pending_approval'), ...publishErrors },
        },
      },
      '/v1/audience': {
        get: {
          tags: ['alerts'],
          operationId: 'audience',
          summary: 'Who would receive an alert on these topics now, summed over every gateway (at most 2 s old)',
          security: publish,
          parameters: [{ name: 'topics', in: 'query', required: true, schema: { type: 'string' }, description: "comma list of an alert's topics" }],
          responses: { '200': { description: 'the counts', content: json('Audience') }, '401': problem('no or unknown key'), '422': problem('missing or invalid topics') },
        },
      },
      '/v1/feed': {
        get: {
          tags: ['feed'],
          operationId: 'readFeed',
          summary: "The feed's events after a cursor, oldest first",
          security: [{}, { bearer: [] }],
          parameters: [
            { name: 'topics', in: 'query', schema: { type: 'string' }, description: 'comma list; none means *' },
            { name: 'after', in: 'query', schema: { type: 'string', pattern: '^(0|[1-9]\\d{0,19})-(0|[1-9]\\d{0,19})$' }, description: 'an eventId: MS-SEQ, no leading zeros, each part at most 2^64-1' },
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500, default: 100 } },
            { name: 'last', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 500 }, description: 'instead of after and limit: the newest N events (still oldest first), with next set to the end of the feed' },
          ],
          responses: {
            '200': { description: 'events, each exactly the stream frame', content: json('FeedPage') },
            '401': problem('private/ topic without a credential'),
            '403': problem('credential does not grant the topic'),
            '422': problem('bad limit, last or cursor'),
            '429': problem('anonymous polls from this address exceeded their rate; see Retry-After'),
            ...unavailable,
          },
        },
      },
      '/v1/push/key': {
        get: { tags: ['push'], operationId: 'pushKey', summary: 'The VAPID public key browsers subscribe with (applicationServerKey)', security: [{}], responses: { '200': { description: 'the key', content: json('PushKey') } } },
      },
      '/v1/push/subscriptions': {
        post: {
          tags: ['push'],
          operationId: 'pushSubscribe',
          summary: "Subscribe a browser's push subscription to topics (alerts with the tab closed)",
          security: [{}, { bearer: [] }],
          parameters: [{ name: 'token', in: 'query', schema: { type: 'string' }, description: 'a subscriber token, as a page passes it to the stream (instead of Authorization)' }],
          requestBody: { required: true, content: json('PushSubscribe') },
          responses: {
            '201': { description: 'subscribed', content: json('PushSubscription') },
            '200': { description: 'the endpoint was known: its topics were replaced', content: json('PushSubscription') },
            '401': problem('private/ topic without a credential'),
            '403': problem('credential does not grant the topic'),
            '422': problem('bad subscription or topics, or an endpoint on a non-public address'),
            '503': problem('Redis cannot be reached, or the subscription ceiling is reached'),
          },
        },
        delete: {
          tags: ['push'],
          operationId: 'pushUnsubscribe',
          summary: 'Forget a push subscription by its endpoint',
          security: [{}],
          requestBody: { required: true, content: json('PushUnsubscribe') },
          responses: { '204': { description: 'gone (or never there)' }, '422': problem('no endpoint') },
        },
      },
      '/v1/webhooks': {
        post: {
          tags: ['webhooks'],
          operationId: 'createWebhook',
          summary: 'Register a webhook endpoint; it receives events sent from now on',
          description: 'The signing secret is in this answer only (and again at rotation). The url must resolve to public addresses unless FLASHWIRE_WEBHOOK_ALLOW_PRIVATE is true.',
          security: admin,
          requestBody: { required: true, content: json('WebhookCreate') },
          responses: {
            '201': {
              description: 'created; the body holds the secret, shown once',
              headers: { Location: { schema: { type: 'string' }, description: '/v1/webhooks/{id}' } },
              content: json('WebhookCreated'),
            },
            ...webhookBodyErrors,
            '422': problem('validation failed, or the url resolves to a non-public address or not at all: `errors` names every bad field as { path, message }'),
            ...adminErrors,
          },
        },
        get: {
          tags: ['webhooks'],
          operationId: 'listWebhooks',
          summary: 'Every webhook endpoint with its status, cursor and lag (no secrets)',
          security: admin,
          responses: { '200': { description: 'the endpoints, by id', headers: noStore, content: json('WebhookList') }, ...adminErrors },
        },
      },
      '/v1/webhooks/{id}': {
        parameters: [webhookIdParam],
        get: {
          tags: ['webhooks'],
          operationId: 'getWebhook',
          summary: 'A webhook endpoint with its status, cursor, lag and last attempts (no secret)',
          security: admin,
          responses: { '200': { description: 'the endpoint and its last 20 attempts, newest first', headers: noStore, content: json('WebhookDetail') }, ...webhookNotFound, ...adminErrors },
        },
        delete: {
          tags: ['webhooks'],
          operationId: 'deleteWebhook',
          summary: 'Delete a webhook endpoint: nothing more is sent to it',
          security: admin,
          responses: { '204': { description: 'deleted' }, ...webhookNotFound, ...adminErrors },
        },
      },
      '/v1/webhooks/{id}/rotate-secret': {
        parameters: [webhookIdParam],
        post: {
          tags: ['webhooks'],
          operationId: 'rotateWebhookSecret',
          summary: 'A new signing secret; the previous one still signs too for 24 h',
          security: admin,
          responses: { '200': { description: 'the endpoint and its new secret, shown once', content: json('WebhookRotated') }, ...webhookNotFound, ...adminErrors },
        },
      },
      '/v1/webhooks/{id}/enable': {
        parameters: [webhookIdParam],
        post: webhookState('Enable a webhook endpoint: active again, its failure count reset, delivery resumes from its cursor', 'enableWebhook', 'Also the way back for an endpoint disabled after failing too long.'),
      },
      '/v1/webhooks/{id}/disable': {
        parameters: [webhookIdParam],
        post: webhookState('Disable a webhook endpoint: nothing is sent to it until it is enabled', 'disableWebhook', 'Its cursor stays: enabling it delivers what it missed.'),
      },
      '/v1/webhooks/{id}/replay': {
        parameters: [webhookIdParam],
        post: {
          tags: ['webhooks'],
          operationId: 'replayWebhook',
          summary: 'Move the cursor back: the events after `from` are delivered again',
          security: admin,
          requestBody: { required: true, content: json('WebhookReplay') },
          responses: {
            '202': { description: 'the cursor is moved; delivery follows', content: json('Webhook') },
            ...webhookBodyErrors,
            ...webhookNotFound,
            '422': problem('`from` is not an eventId, or is after the newest event'),
            ...adminErrors,
          },
        },
      },
      '/healthz': { get: { tags: ['operations'], operationId: 'health', summary: 'Alive', security: [{}], responses: { '200': { description: 'alive' } } } },
      '/readyz': {
        get: { tags: ['operations'], operationId: 'ready', summary: 'Ready (Redis reachable; on an API process, with room for writes)', security: [{}], responses: { '200': { description: 'ready' }, '503': problem('Redis cannot be reached, or is out of memory') } },
      },
      '/metrics': {
        get: { tags: ['operations'], operationId: 'metrics', summary: 'Prometheus metrics', security: [{}, { bearer: [] }],
          description: 'Open, unless FLASHWIRE_METRICS_KEY is set: then that key is needed as a bearer credential.',
          responses: {
            '200': { description: 'text format', content: { 'text/plain': { schema: { type: 'string' } } } },
            '401': problem('FLASHWIRE_METRICS_KEY is set and was not presented'),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'an API key (scopes publish, subscribe, admin, approve) or, on read paths, a subscriber token (HS256 JWT)' },
      },
      schemas: {
        AlertInput: withTextLimits(jsonSchema(alertInputSchema, 'input'), text),
        AlertPatch: withTextLimits(jsonSchema(alertPatchSchema, 'input'), text),
        RetractRequest: withTextLimits(jsonSchema(retractSchema, 'input'), { reason: { min: 1, max: LIMITS.reasonMax } }),
        RejectRequest: withTextLimits(jsonSchema(rejectSchema, 'input'), { reason: { min: 1, max: LIMITS.reasonMax } }),
        Audience: jsonSchema(audienceCountSchema, 'output'),
        DryRun: jsonSchema(dryRunSchema, 'output'),
        Alert: jsonSchema(alertResourceSchema, 'output'),
        AlertPage: jsonSchema(alertPageSchema, 'output'),
        FeedPage: jsonSchema(feedPageSchema, 'output'),
        Problem: jsonSchema(problemSchema, 'output'),
        PushKey: jsonSchema(pushKeySchema, 'output'),
        PushSubscribe: jsonSchema(pushSubscribeSchema, 'input'),
        PushUnsubscribe: jsonSchema(pushUnsubscribeSchema, 'input'),
        PushSubscription: jsonSchema(pushSubscriptionResourceSchema, 'output'),
        WebhookCreate: jsonSchema(webhookCreateSchema, 'input'),
        WebhookReplay: jsonSchema(webhookReplaySchema, 'input'),
        Webhook: jsonSchema(webhookViewSchema, 'output'),
        WebhookDetail: jsonSchema(webhookDetailSchema, 'output'),
        WebhookCreated: jsonSchema(webhookCreatedSchema, 'output'),
        WebhookRotated: jsonSchema(webhookRotatedSchema, 'output'),
        WebhookList: jsonSchema(webhookListSchema, 'output'),
      },
    },
  };
}
