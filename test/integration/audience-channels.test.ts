/**
 * GET /v1/audience counts webhook endpoints and Web Push subscriptions beside
 * the readers, with the stream's matching: a topic covers its children, `*`
 * covers public topics only, and a disabled endpoint receives nothing.
 */
import { getJson } from '../helpers/clients';
import { FakeBrowser } from '../helpers/push-service';
import { startRedis } from '../helpers/redis';
import { startService } from '../helpers/service';
import { PUBLISH_KEY, uniquePrefix } from '../helpers/settings';
import { createAdminKey, webhookApi } from '../helpers/webhooks';

const auth = { Authorization: `Bearer ${PUBLISH_KEY}` };

describe('audience of webhooks and push', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  let api: Awaited<ReturnType<typeof startService>>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    redis = await startRedis();
    api = await startService(redis.url, { FLASHWIRE_PREFIX: prefix, FLASHWIRE_ROLES: 'api', FLASHWIRE_WEBHOOK_ALLOW_PRIVATE: 'true', FLASHWIRE_PUSH_ALLOW_PRIVATE: 'true' });
  });
  afterAll(async () => {
    await api?.stop();
    await redis?.cleanup();
  });

  const audience = async (topics: string) => (await getJson(`${api.url}/v1/audience?topics=${encodeURIComponent(topics)}`, auth)).body;

  it('sums endpoints and subscriptions whose topics cover the alert', async () => {
    const hooks = webhookApi(api.url, await createAdminKey(redis.url, prefix));
    await hooks.create('http://127.0.0.1:9/a', ['europe']);
    await hooks.create('http://127.0.0.1:9/b', ['*']);
    const off = await hooks.create('http://127.0.0.1:9/c', ['europe/ukraine']);
    expect((await hooks.call('POST', `/v1/webhooks/${off.id}/disable`)).status).toBe(200);
    for (const [path, topics] of [['/p1', ['europe/ukraine']], ['/p2', ['world']], ['/p3', ['europe', 'world']]] as const) {
      const b = new FakeBrowser(`http://127.0.0.1:9${path}`);
      const res = await fetch(`${api.url}/v1/push/subscriptions`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ subscription: b.subscription, topics }) });
      expect(res.status).toBe(201);
    }

    expect(await audience('europe/ukraine')).toMatchObject({ webhooks: 2, push: 2, readers: 0 });
    expect(await audience('world')).toMatchObject({ webhooks: 1, push: 2 });
    expect(await audience('sport')).toMatchObject({ webhooks: 1, push: 0 });
    expect(await audience('private/desk')).toMatchObject({ webhooks: 0, push: 0 });
  });
});
