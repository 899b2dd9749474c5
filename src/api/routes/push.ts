/**
 * Web Push subscriptions: `GET /v1/push/key`, `POST` and `DELETE
 * /v1/push/subscriptions`. A browser subscribes with the VAPID public key
 * and posts what its push service gave it, with the topics to follow;
 * private topics need a credential, as on the stream.
 */
import { Router, type Request, type Response } from 'express';
import { isPrivateTopic, isValidSubscription } from '../../alert/topics';
import type { Principal } from '../../auth/principal';
import { metrics } from '../../metrics/metrics';
import { decodeKeys, KeyFormatError } from '../../push/encryption';
import { checkEndpointAddress, EndpointError, parseEndpoint } from '../../push/endpoint';
import { pushSubscribeSchema, pushUnsubscribeSchema } from '../../push/schema';
import { subscriptionId } from '../../push/subscriptions';
import { jsonBody } from '../body';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { validationError } from '../problems';
import { mayReadSubscription, readPrincipal } from '../read-access';

function invalid(path: string, message: string): ApiError {
  return new ApiError('validation_failed', `invalid ${path}: ${path} ${message}`, [{ path, message }]);
}

/** When the credential stops granting private topics: a token's expiry; never for a key. */
function grantExpiry(p: Principal | undefined): number {
  return p?.kind === 'token' ? p.expiresAt : 0;
}

/**
 * The credential, as on the stream: `Authorization: Bearer …`, or a page's
 * subscriber token as `?token=`. A present but bad one is a 401.
 */
async function subscriberPrincipal(ctx: ApiContext, req: Request): Promise<Principal | undefined> {
  const token = req.query.token;
  if (req.headers.authorization !== undefined || typeof token !== 'string') return readPrincipal(ctx, req);
  const p = token ? await ctx.authenticator.authenticate(token) : undefined;
  if (!p) throw new ApiError('unauthorized', 'unknown, revoked or expired credential', undefined, { 'WWW-Authenticate': 'Bearer realm="flashwire"' });
  return p;
}

export function pushRouter(ctx: ApiContext): Router {
  const r = Router();
  const push = ctx.push;
  if (!push) return r;
  const body = jsonBody(ctx.settings.FLASHWIRE_BODY_LIMIT_BYTES);
  const allowPrivate = ctx.settings.FLASHWIRE_PUSH_ALLOW_PRIVATE;

  r.get('/v1/push/key', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'no-cache').json({ publicKey: push.publicKey });
  });

  r.post('/v1/push/subscriptions', body, async (req: Request, res: Response) => {
    const parsed = pushSubscribeSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, req.body);
    const { subscription, topics: asked } = parsed.data;
    const topics = [...new Set(asked.map((t) => t.trim()))];
    const badTopic = topics.find((t) => !isValidSubscription(t));
    if (badTopic !== undefined) throw invalid('topics', `"${badTopic.slice(0, 64)}" is not a valid topic (lowercase words separated by "/", or "*")`);
    let endpoint: URL;
    try {
      endpoint = parseEndpoint(subscription.endpoint, allowPrivate);
      decodeKeys(subscription.keys);
    } catch (err) {
      if (err instanceof EndpointError) throw invalid('subscription.endpoint', err.message);
      if (err instanceof KeyFormatError) throw invalid(/auth/.test(err.message) && !/p256dh/.test(err.message) ? 'subscription.keys.auth' : 'subscription.keys.p256dh', err.message);
      throw err;
    }

    // Private topics: as on the stream, a credential that grants them.
    const principal = await subscriberPrincipal(ctx, req);
    const refused = topics.filter((t) => !mayReadSubscription(principal, t));
    if (refused.length) {
      if (!principal) throw new ApiError('unauthorized', `${refused.join(', ')} need a subscriber token or a subscribe key as "Authorization: Bearer …"`, undefined, { 'WWW-Authenticate': 'Bearer realm="flashwire"' });
      throw new ApiError('forbidden', `this credential does not grant ${refused.join(', ')}`);
    }

    try {
      await checkEndpointAddress(endpoint, allowPrivate);
    } catch (err) {
      if (err instanceof EndpointError) throw invalid('subscription.endpoint', err.message);
      throw err;
    }

    const known = (await push.subscriptions.get(subscriptionId(subscription.endpoint))) !== undefined;
    if (!known && (await push.subscriptions.count()) >= ctx.settings.FLASHWIRE_PUSH_MAX_SUBSCRIPTIONS) {
      throw new ApiError('unavailable', 'this service holds as many push subscriptions as it is configured for; try again later', undefined, { 'Retry-After': '3600' });
    }
    const grantExpiresAt = topics.some(isPrivateTopic) ? grantExpiry(principal) : 0;
    const { id, created } = await push.subscriptions.put({ endpoint: subscription.endpoint, keys: subscription.keys, topics, grantExpiresAt });
    res.status(created ? 201 : 200).set('Cache-Control', 'no-store').json({ id, topics });
  });

  r.delete('/v1/push/subscriptions', body, async (req: Request, res: Response) => {
    const parsed = pushUnsubscribeSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, req.body);
    if (await push.subscriptions.removeEndpoint(parsed.data.endpoint)) metrics.pushSubscriptionsRemoved.inc({ reason: 'unsubscribed' });
    res.status(204).end();
  });

  return r;
}
