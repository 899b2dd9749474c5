/**
 * /v1/webhooks: webhook endpoints, managed with an `admin` key. The secret
 * is shown once, at creation (and at rotation); everything else can be
 * read back with the endpoint's status, cursor, lag and last attempts.
 */
import { Router, type Request, type Response } from 'express';
import { compareEventIds } from '../../feed/event-id';
import { SecretBox } from '../../webhooks/secret-box';
import { checkUrlTarget, UnsafeAddressError } from '../../webhooks/ssrf';
import { webhookCreateSchema, webhookReplaySchema } from '../../webhooks/schema';
import { WEBHOOK_ID_PATTERN, WebhookStore, type Endpoint } from '../../webhooks/store';
import { requireKey } from '../auth';
import { jsonBody } from '../body';
import type { ApiContext } from '../context';
import { ApiError } from '../errors';
import { validationError } from '../problems';

export function webhooksRouter(ctx: ApiContext): Router {
  const r = Router();
  const admin = requireKey(ctx.apiKeys, 'admin');
  const body = jsonBody(ctx.settings.FLASHWIRE_BODY_LIMIT_BYTES);
  const store = new WebhookStore(ctx.redis, ctx.keys, new SecretBox(ctx.settings.FLASHWIRE_SECRET_KEY));

  const found = <T>(id: string, value: T | undefined): T => {
    if (value === undefined) throw new ApiError('not_found', `no webhook endpoint ${id}`);
    return value;
  };
  const load = async (req: Request): Promise<Endpoint> => {
    const id = String(req.params.id);
    return found(id, WEBHOOK_ID_PATTERN.test(id) ? await store.get(id) : undefined);
  };
  const statusChanged = (id: string, from: string | undefined, to: string, why: string) => {
    if (from !== undefined && from !== to) ctx.log.info({ webhook: id, from, to, reason: why }, 'webhook status changed');
  };

  r.post('/v1/webhooks', admin, body, async (req: Request, res: Response) => {
    const parsed = webhookCreateSchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, req.body);
    const input = parsed.data;
    const url = new URL(input.url);
    if (!ctx.settings.FLASHWIRE_WEBHOOK_ALLOW_PRIVATE) {
      try {
        await checkUrlTarget(url, ctx.webhookLookup);
      } catch (err) {
        const message = err instanceof UnsafeAddressError ? `${err.message}; webhooks only call public addresses` : `${url.hostname} could not be resolved`;
        throw new ApiError('validation_failed', `invalid url: ${message}`, [{ path: 'url', message }]);
      }
    }
    const by = req.principal?.kind === 'key' ? req.principal.name : 'unknown';
    const { endpoint, secret } = await store.create({ url: url.toString(), topics: input.topics, description: input.description ?? '', createdBy: by });
    ctx.log.info({ webhook: endpoint.id, topics: endpoint.topics, by }, 'webhook endpoint created');
    res
      .status(201)
      .location(`/v1/webhooks/${endpoint.id}`)
      .json({ id: endpoint.id, url: endpoint.url, topics: endpoint.topics, description: endpoint.description, status: endpoint.status, secret, createdAt: endpoint.createdAt });
  });

  r.get('/v1/webhooks', admin, async (_req: Request, res: Response) => {
    const out = [];
    for (const id of await store.ids()) {
      const ep = await store.get(id);
      if (ep) out.push(await store.view(ep));
    }
    res.set('Cache-Control', 'no-store').json({ webhooks: out });
  });

  r.get('/v1/webhooks/:id', admin, async (req: Request, res: Response) => {
    const id = String(req.params.id);
    const { endpoint, attempts } = found(id, WEBHOOK_ID_PATTERN.test(id) ? await store.getWithAttempts(id) : undefined);
    res.set('Cache-Control', 'no-store').json(await store.view(endpoint, attempts));
  });

  r.delete('/v1/webhooks/:id', admin, async (req: Request, res: Response) => {
    const ep = await load(req);
    await store.remove(ep.id);
    ctx.log.info({ webhook: ep.id }, 'webhook endpoint deleted');
    res.status(204).end();
  });

  r.post('/v1/webhooks/:id/rotate-secret', admin, async (req: Request, res: Response) => {
    const ep = await load(req);
    const secret = await store.rotate(ep.id);
    if (!secret) throw new ApiError('not_found', `no webhook endpoint ${ep.id}`);
    ctx.log.info({ webhook: ep.id }, 'webhook secret rotated; the previous one signs too for 24 h');
    res.json({ ...(await store.view((await store.get(ep.id)) ?? ep)), secret });
  });

  r.post('/v1/webhooks/:id/enable', admin, async (req: Request, res: Response) => {
    const ep = await load(req);
    const before = await store.update(ep.id, { status: 'active', failures: 0, failingSince: 0, nextAt: 0, disabledReason: '' });
    statusChanged(ep.id, before, 'active', 'enabled');
    res.json(await store.view((await store.get(ep.id)) ?? ep));
  });

  r.post('/v1/webhooks/:id/disable', admin, async (req: Request, res: Response) => {
    const ep = await load(req);
    const before = await store.update(ep.id, { status: 'disabled', disabledReason: 'disabled' });
    statusChanged(ep.id, before, 'disabled', 'disabled');
    res.json(await store.view((await store.get(ep.id)) ?? ep));
  });

  r.post('/v1/webhooks/:id/replay', admin, body, async (req: Request, res: Response) => {
    const ep = await load(req);
    const parsed = webhookReplaySchema.safeParse(req.body);
    if (!parsed.success) throw validationError(parsed.error, req.body);
    const last = await store.feed.lastId();
    if (compareEventIds(parsed.data.from, last) > 0) {
      const message = `is after the newest event (${last})`;
      throw new ApiError('validation_failed', `invalid from: ${message}`, [{ path: 'from', message }]);
    }
    await store.update(ep.id, { cursor: parsed.data.from, failures: 0, failingSince: 0, nextAt: 0 });
    ctx.log.info({ webhook: ep.id, from: parsed.data.from }, 'webhook replay requested');
    res.status(202).json(await store.view((await store.get(ep.id)) ?? ep));
  });

  return r;
}
